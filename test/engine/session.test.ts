/**
 * One host's session against real sshd and in-process ssh2 servers: the last output before
 * exit, stopping commands (root sessions included), hosts that stop answering, host key
 * negotiation for pinned fingerprints, authentication failures, and races at the end of a command.
 */
import assert from 'node:assert/strict'
import { connect, createServer, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import ssh2 from 'ssh2'
import { OutputSpool, SpoolDir } from '../../src/engine/output/spool.js'
import { runSession, type SessionOptions, type SessionOutcome } from '../../src/engine/host/session.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { knownHostsPolicy, runEngine, target } from '../helpers/engine.js'
import { loginUser } from '../helpers/fleet.js'
import { processGone } from '../helpers/net.js'
import { generateClientKey, startFakeServer, type FakeServerOptions, generateKeyPair } from '../helpers/ssh2-server.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'

/** A spool that calls `onText` with everything written so far, after each chunk. */
class WatchedSpool extends OutputSpool {
  text = ''
  constructor(
    dir: SpoolDir,
    private readonly onText: (text: string) => void,
  ) {
    super(dir.spool(1 << 20).path, 1 << 20)
  }
  override write(chunk: Buffer): Promise<void> {
    this.text += chunk.toString()
    this.onText(this.text)
    return super.write(chunk)
  }
}

/** runSession with an abort controller, and a hook on the output as it arrives. */
async function session(
  opts: Omit<SessionOptions, 'output' | 'signal' | 'connectTimeoutMs' | 'commandTimeoutMs'> & Partial<SessionOptions>,
  onText: (text: string, abort: () => void) => void = () => undefined,
): Promise<{ outcome: SessionOutcome; text: string; durationMs: number }> {
  const dir = new SpoolDir()
  const controller = new AbortController()
  const output = new WatchedSpool(dir, (text) => onText(text, () => controller.abort()))
  const started = Date.now()
  try {
    const outcome = await runSession({ connectTimeoutMs: 5_000, commandTimeoutMs: 0, signal: controller.signal, output, ...opts })
    return { outcome, text: output.text, durationMs: Date.now() - started }
  } finally {
    await output.dispose()
    dir.remove()
  }
}

const unchecked = hostKeyPolicy({ strict: false, knownHosts: null, fingerprints: [] })

function pids(text: string): number[] {
  return text
    .split('\n')
    .flatMap((l) => /^(?:pid|child)=(\d+)$/.exec(l)?.[1] ?? [])
    .map(Number)
}

describe('session against real sshd', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let sshd: Sshd
  before(async () => {
    sshd = await startSshd({ user: await loginUser() })
  })
  after(async () => {
    await sshd?.stop()
  })

  const onSshd = (command: string) => ({ command, credentials: { privateKey: sshd.clientKey }, hostKeys: knownHostsPolicy(sshd.knownHosts) })

  it('keeps the last stderr lines before exit, on every host (tail and log)', async () => {
    const targets = Array.from({ length: 4 }, () => target(sshd.host, sshd.port, sshd.username))
    const res = await runEngine(targets, { session: onSshd('seq 1 3000 >&2; echo final-error-line >&2; exit 1') })
    for (const r of res.results) {
      assert.deepEqual([r.status, r.exitCode], ['failed', 1], JSON.stringify(r))
      assert.equal(r.tail.at(-1), 'final-error-line', r.tail.join('\n'))
    }
    assert.equal(res.reporter.finished.length, 4)
    for (const { log } of res.reporter.finished) assert.ok(log.endsWith('2999\n3000\nfinal-error-line\n'), log.slice(-200))
  })

  for (const [pin, type] of [
    ['RSA', 'ssh-rsa'],
    ['ECDSA', 'ecdsa-sha2-nistp256'],
  ] as const) {
    it(`accepts a host whose ${pin} key alone is pinned by fingerprint, though it also has an Ed25519 key`, async () => {
      const key = sshd.hostKeys.find((k) => k.type === type)!
      const { outcome } = await session({
        target: target(sshd.host, sshd.port, sshd.username),
        command: 'echo ok',
        credentials: { privateKey: sshd.clientKey },
        hostKeys: hostKeyPolicy({ strict: true, knownHosts: null, fingerprints: [{ pattern: null, fingerprint: key.fingerprint }] }),
      })
      assert.equal(outcome.status, 'success', outcome.error ?? '')
      assert.deepEqual(outcome.hostKey, { type, fingerprint: key.fingerprint })
    })
  }

  it('refuses a host none of whose keys is pinned, naming every key it presented', async () => {
    const { outcome } = await session({
      target: target(sshd.host, sshd.port, sshd.username),
      command: 'echo ok',
      credentials: { privateKey: sshd.clientKey },
      hostKeys: hostKeyPolicy({ strict: true, knownHosts: null, fingerprints: [{ pattern: null, fingerprint: `SHA256:${'A'.repeat(43)}` }] }),
    })
    assert.equal(outcome.errorKind, 'host key', JSON.stringify(outcome))
    const ed25519 = sshd.hostKeys.find((k) => k.type === 'ssh-ed25519')!
    assert.ok(outcome.error!.startsWith(`host key: ${sshd.host}:${sshd.port} presented ssh-ed25519 ${ed25519.fingerprint}`), outcome.error!)
    for (const k of sshd.hostKeys) assert.ok(outcome.error!.includes(`${k.type} ${k.fingerprint}`), `${k.type} missing from: ${outcome.error}`)
    assert.match(outcome.error!, /which is not in known-hosts or fingerprints/)
    assert.deepEqual(outcome.hostKey, { type: 'ssh-ed25519', fingerprint: ed25519.fingerprint })
  })

  it('reports "Too many authentication failures" (MaxAuthTries) as an authentication failure with the methods tried', async () => {
    const strict = await startSshd({ user: await loginUser(), extraConfig: ['MaxAuthTries 2', 'PasswordAuthentication yes'] })
    try {
      const { outcome } = await session({
        target: target(strict.host, strict.port, strict.username),
        command: 'echo ok',
        credentials: { privateKey: generateClientKey().private, password: 'wrong' },
        hostKeys: knownHostsPolicy(strict.knownHosts),
      })
      assert.equal(outcome.errorKind, 'authentication', JSON.stringify(outcome))
      assert.match(
        outcome.error!,
        /^authentication failed for user "[^"]+" \(tried: key, password; the server offers: publickey, password\); the server disconnected: Too many authentication failures/,
      )
      assert.equal(outcome.retryable, false)
    } finally {
      await strict.stop()
    }
  })
})

describe(
  'stopping a root session (OpenSSH ignores its signal requests)',
  { skip: (!requireSshd() && 'sshd not installed') || (process.getuid?.() !== 0 && 'needs root') },
  () => {
    let root: Sshd
    before(async () => {
      root = await startSshd({})
    })
    after(async () => {
      await root?.stop()
    })

    for (const how of ['cancelled', 'timeout'] as const) {
      it(`${how}: every process of the command is gone when the host is reported, children that left stdout included`, async () => {
        // Children that do not hold stdout: the channel closes as soon as the shell dies, before the sweep reached them.
        const command = 'echo pid=$$; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 120 >/dev/null 2>&1 & echo child=$!; done; wait'
        const { outcome, text } = await session(
          {
            target: target(root.host, root.port, root.username),
            command,
            credentials: { privateKey: root.clientKey },
            hostKeys: knownHostsPolicy(root.knownHosts),
            cancelGraceMs: 200,
            killGraceMs: 200,
            commandTimeoutMs: how === 'timeout' ? 1_000 : 0,
          },
          (t, abort) => void (how === 'cancelled' && pids(t).length === 21 && abort()),
        )
        assert.equal(outcome.status, how, JSON.stringify(outcome))
        assert.equal(pids(text).length, 21, text)
        const left = pids(text).filter((pid) => !processGone(pid))
        assert.deepEqual(left, [], 'processes still running when the session ended')
        assert.match(outcome.error!, /stopped on the host \(TERM, then KILL\)$/)
      })
    }
  },
)

/** A relay to `server` that drops everything in both directions once `partition()` is called (no FIN, no RST). */
async function partitionable(port: number): Promise<{ port: number; partition(): void; close(): Promise<void> }> {
  let partitioned = false
  const sockets: Socket[] = []
  const relay = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    sockets.push(client, upstream)
    client.on('data', (d) => void (partitioned || upstream.write(d)))
    upstream.on('data', (d) => void (partitioned || client.write(d)))
    client.on('error', () => undefined)
    upstream.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  return {
    port: (relay.address() as { port: number }).port,
    partition: () => void (partitioned = true),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => relay.close(resolve))
    },
  }
}

describe('session against in-process ssh2 servers', () => {
  async function withServer<T>(opts: FakeServerOptions, fn: (port: number) => Promise<T>): Promise<T> {
    const server = await startFakeServer({ auth: { password: 'pw' }, ...opts })
    try {
      return await fn(server.port)
    } finally {
      await server.close()
    }
  }
  const base = (port: number) => ({ target: target('127.0.0.1', port), command: 'x', credentials: { password: 'pw' }, hostKeys: unchecked })

  it('cancelling a command on a host that stopped answering says the outcome is unknown, and does not wait long', async () => {
    await withServer({ onExec: (_c, s) => void s.write('started\n') }, async (port) => {
      const relay = await partitionable(port)
      try {
        // keepalive would notice the partition only after minutes: nothing but the stop's own timers can end it sooner
        const opts = { ...base(relay.port), cancelGraceMs: 200, stopWaitMs: 300, keepaliveIntervalMs: 120_000 }
        const { outcome, durationMs } = await session(opts, (text, abort) => {
          if (!text.includes('started')) return
          relay.partition()
          abort()
        })
        assert.equal(outcome.status, 'cancelled')
        assert.equal(
          outcome.error,
          'cancelled: the job was cancelled while the command ran; TERM, then KILL sent; the host did not answer, so whether the command stopped is unknown',
        )
        // TERM, 200 ms, KILL, 300 ms, give up; waiting for a close that never comes would last until keepalive gave up
        assert.ok(durationMs < 60_000, `took ${durationMs} ms`)
      } finally {
        await relay.close()
      }
    })
  })

  it('a command that ignores TERM and KILL on a host that answers: it may still be running, and the message says so', async () => {
    // The fake server ignores signals, and the sweep it receives never ends either.
    await withServer({ onExec: (_c, s) => void s.resume() }, async (port) => {
      const { outcome } = await session({ ...base(port), commandTimeoutMs: 300, killGraceMs: 100, stopWaitMs: 300 })
      assert.equal(outcome.status, 'timeout')
      assert.equal(
        outcome.error,
        'command timed out after 300 ms; TERM, then KILL sent, but the command had not ended when the session was closed, so it may still be running on the host',
      )
    })
  })

  // The server sends the exit status, then more output, then holds the channel open until it gets a signal.
  const exitThenHold: FakeServerOptions['onExec'] = (_c, s, info) => {
    s.exit(0)
    s.write('after-exit\n')
    info.onSignal(() => s.end())
  }

  it('an abort after exit-status 0 but before the channel closed: the exit status wins', async () => {
    await withServer({ onExec: exitThenHold }, async (port) => {
      const { outcome } = await session(base(port), (text, abort) => void (text.includes('after-exit') && abort()))
      assert.deepEqual([outcome.status, outcome.exitCode, outcome.error], ['success', 0, null])
    })
  })

  it('a command-timeout after exit-status 0 but before the channel closed: the exit status wins', async () => {
    await withServer({ onExec: exitThenHold }, async (port) => {
      const { outcome, text } = await session({ ...base(port), commandTimeoutMs: 1_000, killGraceMs: 100 })
      assert.equal(text, 'after-exit\n')
      assert.deepEqual([outcome.status, outcome.exitCode, outcome.error], ['success', 0, null])
    })
  })

  it('a server that disconnects during authentication for too many failures: authentication failed, with the methods tried', async () => {
    const srv = new ssh2.Server({ hostKeys: [generateKeyPair().private] }, (conn) => {
      conn.on('error', () => undefined)
      let failures = 0
      conn.on('authentication', (ctx) => {
        if (ctx.method !== 'none' && ++failures >= 2) {
          const c = conn as unknown as { _protocol: { disconnect(reason: number): void } }
          return c._protocol.disconnect(14) // SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE
        }
        ctx.reject(['publickey', 'password'])
      })
    })
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()))
    try {
      const port = (srv.address() as { port: number }).port
      const { outcome } = await session({ ...base(port), credentials: { privateKey: generateClientKey().private, password: 'wrong' } })
      assert.equal(outcome.errorKind, 'authentication', JSON.stringify(outcome))
      assert.match(
        outcome.error!,
        /^authentication failed for user "deploy" \(tried: key, password; the server offers: publickey, password\); the server disconnected: /,
      )
    } finally {
      await new Promise((resolve) => srv.close(resolve))
    }
  })
})
