/**
 * The engine (session + scheduler) against in-process ssh2 servers and real sshd:
 * authentication, host keys, timeouts, retries, fail-fast, cancellation, floods.
 */
import assert from 'node:assert/strict'
import { connect, createServer, type LookupFunction, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { fanout, type FanoutOptions, type Reporter } from '../../src/engine/fanout/fanout.js'
import { parseKnownHosts } from '../../src/engine/trust/known-hosts.js'
import { SpoolDir, type OutputSpool } from '../../src/engine/output/spool.js'
import type { HostResult, HostTarget } from '../../src/engine/model.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { generateClientKey, startFakeServer } from '../helpers/ssh2-server.js'
import { loginUser } from '../helpers/fleet.js'
import { closedPort, processGone, tarpit } from '../helpers/net.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'
import { within } from '../helpers/wait.js'

function target(host: string, port: number, username = 'deploy'): HostTarget {
  return { host, port, username, label: port === 22 ? host : `${host}:${port}` }
}

class RecordingReporter implements Reporter {
  finished: Array<{ result: HostResult; log: string }> = []
  retries: Array<{ label: string; attempt: number; delayMs: number }> = []
  progressCalls = 0
  /** Called after each finished host and each progress report (tests use it to act at a given point). */
  onEvent?: () => void
  async hostFinished(result: HostResult, output: OutputSpool | null): Promise<void> {
    const parts: Buffer[] = []
    if (output) for await (const c of output.chunks()) parts.push(c)
    this.finished.push({ result, log: Buffer.concat(parts).toString() })
    this.onEvent?.()
  }
  progress(): void {
    this.progressCalls += 1
    this.onEvent?.()
  }
  retrying(t: HostTarget, _o: unknown, attempt: number, delayMs: number): void {
    this.retries.push({ label: t.label, attempt, delayMs })
  }
}

type Overrides = Partial<Omit<FanoutOptions, 'session'>> & { session?: Partial<FanoutOptions['session']> }

async function run(targets: HostTarget[], overrides: Overrides = {}, reporter = new RecordingReporter()) {
  const spoolDir = new SpoolDir()
  const { session, ...rest } = overrides
  const result = await fanout({
    targets,
    concurrency: 4,
    threshold: { kind: 'count', value: 0 },
    failFast: false,
    retries: 0,
    retryBaseDelayMs: 50,
    maxOutputBytes: 1 << 20,
    spoolDir,
    reporter,
    ...rest,
    session: {
      command: 'echo hi',
      credentials: { password: 'pw' },
      hostKeys: hostKeyPolicy({ strict: false, knownHosts: null, fingerprints: [] }),
      connectTimeoutMs: 5_000,
      commandTimeoutMs: 0,
      ...session,
    },
  })
  spoolDir.remove()
  return { ...result, reporter }
}

/** Name resolution replaced (no DNS query may leave the machine): fails as the system resolver does. */
function failingLookup(code: string): LookupFunction {
  return (hostname, _opts, callback) =>
    process.nextTick(() => callback(Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, errno: -3008, syscall: 'getaddrinfo' }), '', 4))
}

describe('engine against in-process ssh2 servers', () => {
  it('authenticates with a password, and through keyboard-interactive when that is all the server offers', async () => {
    const pw = await startFakeServer({ auth: { password: 'pw' } })
    const kbd = await startFakeServer({ auth: { keyboardInteractive: 'pw' } })
    try {
      const res = await run([target(pw.host, pw.port), target(kbd.host, kbd.port)])
      assert.deepEqual(
        res.results.map((r) => [r.status, r.exitCode]),
        [
          ['success', 0],
          ['success', 0],
        ],
      )
      assert.deepEqual(
        res.results.map((r) => r.tail),
        [['ran: echo hi'], ['ran: echo hi']],
      )
    } finally {
      await Promise.all([pw.close(), kbd.close()])
    }
  })

  it('reports a failed authentication with what was tried and offered, and does not retry it', async () => {
    const server = await startFakeServer({ auth: { password: 'right' } })
    try {
      const res = await run([target(server.host, server.port)], { retries: 2, session: { credentials: { password: 'wrong' } } })
      const r = res.results[0]
      assert.equal(r.status, 'error')
      assert.equal(r.errorKind, 'authentication')
      assert.match(r.error!, /authentication failed for user "deploy" \(tried: password; the server offers: password\)/)
      assert.equal(r.attempts, 1)
      assert.equal(server.connections, 1)
    } finally {
      await server.close()
    }
  })

  it('uses the key first, and falls back to the password when the key is refused', async () => {
    const client = generateClientKey()
    const keyOnly = await startFakeServer({ auth: { publicKey: client.public } })
    const pwOnly = await startFakeServer({ auth: { password: 'pw' } })
    try {
      const other = generateClientKey()
      const res = await run([target(keyOnly.host, keyOnly.port), target(pwOnly.host, pwOnly.port)], {
        session: { credentials: { privateKey: client.private, password: 'pw' } },
      })
      assert.deepEqual(
        res.results.map((r) => r.status),
        ['success', 'success'],
      )
      const wrongKey = await run([target(pwOnly.host, pwOnly.port)], { session: { credentials: { privateKey: other.private, password: 'pw' } } })
      assert.equal(wrongKey.results[0].status, 'success')
    } finally {
      await Promise.all([keyOnly.close(), pwOnly.close()])
    }
  })

  it('ends a host that accepts TCP and never speaks at connect-timeout', async () => {
    const pit = await tarpit()
    try {
      const res = await run([target('127.0.0.1', pit.port)], { session: { connectTimeoutMs: 800 } })
      const [stalled] = res.results
      assert.equal(stalled.status, 'error')
      assert.equal(stalled.errorKind, 'connect timeout')
      assert.match(stalled.error!, /connect timeout: no session within 800 ms \(stalled during SSH handshake\)/)
    } finally {
      await pit.close()
    }
  })

  it('a host stuck connecting does not delay the others, and progress is reported while it waits', async () => {
    const pit = await tarpit()
    const good = await startFakeServer({ auth: { password: 'pw' } })
    const controller = new AbortController()
    const reporter = new RecordingReporter()
    // The pit cannot end by itself before its 60 s connect-timeout: the test cancels the run once the other host
    // finished and progress was reported, both while the pit was still connecting.
    reporter.onEvent = () => {
      if (reporter.finished.length === 1 && reporter.progressCalls > 0) controller.abort()
    }
    try {
      const res = await run(
        [target('127.0.0.1', pit.port), target(good.host, good.port)],
        { progressIntervalMs: 100, signal: controller.signal, session: { connectTimeoutMs: 60_000 } },
        reporter,
      )
      assert.deepEqual(
        res.reporter.finished.map((f) => [f.result.target.port, f.result.status]),
        [
          [good.port, 'success'],
          [pit.port, 'cancelled'],
        ],
      )
      assert.match(res.results[0].error!, /^cancelled: the job was cancelled during (TCP connect|handshake)$/)
    } finally {
      await Promise.all([pit.close(), good.close()])
    }
  })

  for (const stall of ['handshake', 'auth'] as const) {
    it(`ends a host that stalls during the ${stall} at connect-timeout`, async () => {
      const server = await startFakeServer({ stall, auth: { password: 'pw' } })
      try {
        const res = await run([target(server.host, server.port)], { session: { connectTimeoutMs: 800 } })
        assert.equal(res.results[0].status, 'error')
        assert.equal(res.results[0].errorKind, 'connect timeout')
        assert.match(res.results[0].error!, stall === 'auth' ? /stalled during authentication/ : /stalled during SSH handshake/)
      } finally {
        await server.close()
      }
    })
  }

  it('counts connect-timeout from when a host gets its slot, not while it waits in the queue', async () => {
    // concurrency 1: the second host waits for its slot until the first host's command ends, which the server holds
    // for longer than the connect-timeout (a timer never fires early). The connect-timeout itself is a bound no login
    // on loopback misses; a timeout counted from the queue would have run out before the second host even connected.
    const connectTimeoutMs = 10_000
    let execs = 0
    const slow = await startFakeServer({
      auth: { password: 'pw' },
      onExec: (_c, s) => void setTimeout(() => (s.exit(0), s.end()), ++execs === 1 ? connectTimeoutMs + 500 : 0),
    })
    try {
      const res = await run([target(slow.host, slow.port, 'first'), target(slow.host, slow.port, 'second')], {
        concurrency: 1,
        session: { connectTimeoutMs },
      })
      assert.deepEqual(
        res.results.map((r) => r.status),
        ['success', 'success'],
      )
    } finally {
      await slow.close()
    }
  })

  it('does not retry a name that does not resolve', async () => {
    const res = await run([target('web1.example.test', 22)], { retries: 2, retryBaseDelayMs: 10, session: { lookup: failingLookup('ENOTFOUND') } })
    assert.deepEqual([res.results[0].errorKind, res.results[0].attempts], ['dns', 1])
    assert.equal(res.results[0].error, 'dns: the host name could not be resolved (ENOTFOUND)')
  })

  it('retries a temporary DNS failure', async () => {
    const res = await run([target('web1.example.test', 22)], { retries: 2, retryBaseDelayMs: 10, session: { lookup: failingLookup('EAI_AGAIN') } })
    assert.deepEqual([res.results[0].errorKind, res.results[0].attempts], ['dns', 3])
    assert.match(res.results[0].error!, /^dns: temporary failure/)
  })

  it('retries refused connections with backoff and counts attempts', async () => {
    const port = await closedPort()
    const res = await run([target('127.0.0.1', port)], { retries: 2, retryBaseDelayMs: 20 })
    const r = res.results[0]
    assert.equal(r.status, 'error')
    assert.equal(r.errorKind, 'refused')
    assert.equal(r.attempts, 3)
    assert.deepEqual(
      res.reporter.retries.map((x) => x.attempt),
      [1, 2],
    )
  })

  for (const when of ['before the banner', 'after the banner'] as const) {
    it(`retries a host that drops the connection ${when}, then succeeds`, async () => {
      const server = await startFakeServer({ auth: { password: 'pw' } })
      // The first two connections are dropped; the third is relayed to a working server.
      let accepted = 0
      const relays: Socket[] = []
      const flaky = createServer((client) => {
        client.on('error', () => undefined)
        relays.push(client)
        if (++accepted <= 2) {
          if (when === 'after the banner') client.end('SSH-2.0-OpenSSH_9.2\r\n')
          else client.destroy()
          return
        }
        const upstream = connect(server.port, server.host)
        upstream.on('error', () => undefined)
        relays.push(upstream)
        client.pipe(upstream).pipe(client)
      })
      await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r))
      try {
        const port = (flaky.address() as { port: number }).port
        const res = await run([target('127.0.0.1', port)], { retries: 2, retryBaseDelayMs: 20 })
        const r = res.results[0]
        // The first drop came before the server answered the first flight (it may be a server that will not take
        // a guessed key exchange): an ordinary login follows at once, in the same attempt; its drop fails
        // attempt 1, and attempt 2 (ordinary too) gets through. Three connections, one retry.
        assert.deepEqual([r.status, r.attempts, accepted], ['success', 2, 3], JSON.stringify(r))
        assert.equal(res.reporter.retries.length, 1)
        const once = await run([target('127.0.0.1', port)], { retries: 0 })
        assert.equal(once.results[0].status, 'success', 'the relay keeps working after the first two drops')
      } finally {
        for (const s of relays) s.destroy()
        await new Promise((r) => flaky.close(r))
        await server.close()
      }
    })
  }

  it('never retries once the command started, even if the connection then drops', async () => {
    const server = await startFakeServer({
      auth: { password: 'pw' },
      onExec: (_cmd, stream) => {
        // the connection ends right behind the line (a FIN after it, in order): the line arrives, then the loss
        stream.write('started\n')
        ;(stream as unknown as { _client: { _sock: Socket } })._client._sock.end()
      },
    })
    try {
      const res = await run([target(server.host, server.port)], { retries: 3 })
      const r = res.results[0]
      assert.equal(r.status, 'error')
      assert.equal(r.errorKind, 'connection lost')
      assert.match(r.error!, /^connection lost after /)
      assert.equal(r.attempts, 1)
      assert.deepEqual(server.commands, ['echo hi'])
      assert.deepEqual(r.tail, ['started'])
    } finally {
      await server.close()
    }
  })

  it('refuses unknown and changed host keys, and accepts pinned fingerprints', async () => {
    const server = await startFakeServer({ auth: { password: 'pw' } })
    const other = await startFakeServer({ auth: { password: 'pw' }, hostKey: generateClientKey().private })
    try {
      const t = target(server.host, server.port)
      const strictKh = (text: string) => hostKeyPolicy({ strict: true, knownHosts: parseKnownHosts(text), fingerprints: [] })
      const unknown = await run([t], { session: { hostKeys: strictKh('') } })
      assert.equal(unknown.results[0].errorKind, 'host key')
      assert.match(
        unknown.results[0].error!,
        new RegExp(`^host key: ${t.label} presented ssh-ed25519 ${server.hostKeyPublic.fingerprint.replace(/[+/]/g, '\\$&')}, which is not in known-hosts`),
      )
      // The other server's key listed for this host: same type, different key.
      const changedLine = other.hostKeyPublic.knownHostsLine.replace(`[${other.host}]:${other.port}`, `[${server.host}]:${server.port}`)
      const changed = await run([t], { session: { hostKeys: strictKh(changedLine) } })
      assert.match(changed.results[0].error!, /does NOT match/)
      const revoked = await run([t], {
        session: {
          hostKeys: strictKh(`${server.hostKeyPublic.knownHostsLine}\n@revoked * ${server.hostKeyPublic.knownHostsLine.split(' ').slice(1).join(' ')}`),
        },
      })
      assert.match(revoked.results[0].error!, /revoked/)
      const pinned = await run([t], {
        session: {
          hostKeys: hostKeyPolicy({ strict: true, knownHosts: null, fingerprints: [{ pattern: null, fingerprint: server.hostKeyPublic.fingerprint }] }),
        },
      })
      assert.equal(pinned.results[0].status, 'success')
      assert.equal(pinned.results[0].hostKey?.fingerprint, server.hostKeyPublic.fingerprint)
      assert.equal(server.commands.length, 1, 'the command ran only on the trusted attempt')
    } finally {
      await Promise.all([server.close(), other.close()])
    }
  })

  // ssh2's server API does not surface signal requests once exec started, so signal delivery
  // is shown against real sshd below; here: the host ends `timeout` and its channel is closed.
  it('ends a command that outlives command-timeout as timeout and closes its channel', async () => {
    let onClose: () => void = () => undefined
    const closed = new Promise<void>((resolve) => (onClose = resolve))
    const server = await startFakeServer({
      auth: { password: 'pw' },
      onExec: (_cmd, stream) => void stream.on('close', () => onClose()).resume(), // never exits
    })
    try {
      const res = await run([target(server.host, server.port)], { session: { commandTimeoutMs: 300, killGraceMs: 200 } })
      const r = res.results[0]
      assert.equal(r.status, 'timeout')
      assert.match(r.error!, /command timed out after 300 ms/)
      await within(closed, 'the server seeing the channel close')
    } finally {
      await server.close()
    }
  })

  it('fail-fast: once failures exceed max-failures, queued hosts are skipped', async () => {
    const server = await startFakeServer({ auth: { password: 'pw' }, onExec: (_c, s) => (s.exit(1), s.end()) })
    try {
      const targets = Array.from({ length: 6 }, (_, i) => target(server.host, server.port, `u${i}`))
      // Two run at once; the first failure trips max-failures 0, so nothing else starts.
      const res = await run(targets, { concurrency: 2, failFast: true, threshold: { kind: 'count', value: 0 } })
      const statuses = res.results.map((r) => r.status)
      assert.deepEqual(statuses, ['failed', 'failed', 'skipped', 'skipped', 'skipped', 'skipped'])
      assert.equal(res.thresholdExceeded, true)
      assert.equal(res.stoppedEarly, true)
      assert.equal(res.results.length, 6)
      // Every host is reported (one log group each), skipped ones too, in finishing order.
      assert.deepEqual(res.reporter.finished.map((f) => f.result.status).sort(), [...statuses].sort())
      for (const f of res.reporter.finished.filter((x) => x.result.status === 'skipped'))
        assert.match(f.result.error ?? '', /not started: max-failures was exceeded/)
    } finally {
      await server.close()
    }
  })

  it('cancellation: running commands are stopped and end cancelled, queued ones skipped', async () => {
    // The commands never exit: the run can only end by the cancel, sent once both running commands started.
    const controller = new AbortController()
    const server = await startFakeServer({ auth: { password: 'pw' }, onExec: () => void (server.commands.length === 2 && controller.abort()) })
    try {
      const targets = Array.from({ length: 5 }, (_, i) => target(server.host, server.port, `u${i}`))
      const res = await run(targets, { concurrency: 2, signal: controller.signal })
      assert.deepEqual(
        res.results.map((r) => r.status),
        ['cancelled', 'cancelled', 'skipped', 'skipped', 'skipped'],
      )
      assert.equal(res.cancelled, true)
    } finally {
      await server.close()
    }
  })

  it('floods: output is spooled with backpressure and the log keeps head and tail', async () => {
    const total = 8 * 1024 * 1024
    const server = await startFakeServer({
      auth: { password: 'pw' },
      onExec: (_cmd, stream) => {
        let sent = 0
        const chunk = Buffer.alloc(64 * 1024, 'y')
        const pump = () => {
          while (sent < total) {
            sent += chunk.length
            if (!stream.write(sent >= total ? Buffer.concat([chunk.subarray(0, chunk.length - 4), Buffer.from('END\n')]) : chunk))
              return void stream.once('drain', pump)
          }
          stream.exit(0)
          stream.end()
        }
        pump()
      },
    })
    try {
      const res = await run([target(server.host, server.port)], { maxOutputBytes: 64 * 1024 })
      const r = res.results[0]
      assert.equal(r.status, 'success')
      const log = res.reporter.finished[0].log
      assert.ok(log.length < 70 * 1024, `log is ${log.length} bytes`)
      assert.match(log, /bytes of output left out/)
      assert.ok(log.endsWith('END\n'))
      assert.match(r.tail.at(-1)!, /END$/)
    } finally {
      await server.close()
    }
  })

  it('a host that goes silent mid-command (no FIN, no RST) ends error via keepalive, not at command-timeout', async () => {
    // A relay that, once the command has started, silently drops everything in both directions (a partition).
    let partitioned = false
    const server = await startFakeServer({
      auth: { password: 'pw' },
      onExec: (_c, s) => {
        s.write('started\n')
        // the client closes stdin once its command channel is open: from then on, it is mid-command
        s.once('end', () => (partitioned = true)).resume()
      }, // never exits
    })
    const relays: Socket[] = []
    const proxy = createServer((client) => {
      const upstream = connect(server.port, server.host)
      relays.push(client, upstream)
      client.on('data', (d) => void (partitioned || upstream.write(d)))
      upstream.on('data', (d) => void (partitioned || client.write(d)))
      client.on('error', () => undefined)
      upstream.on('error', () => undefined)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    try {
      const port = (proxy.address() as { port: number }).port
      const res = await run([target('127.0.0.1', port)], { session: { keepaliveIntervalMs: 200, keepaliveCountMax: 2, commandTimeoutMs: 60_000 } })
      const r = res.results[0]
      assert.equal(r.status, 'error', JSON.stringify(r))
      assert.equal(r.errorKind, 'connection lost')
      // (not a timeout: the command-timeout is 60 s away)
      assert.match(r.error!, /^connection lost after .* \(no keepalive reply\)$/)
    } finally {
      for (const s of relays) s.destroy()
      await new Promise((r) => proxy.close(r))
      await server.close()
    }
  })

  it('every host ends with exactly one result in a mixed hostile fleet', async () => {
    const pit = await tarpit()
    const good = await startFakeServer({ auth: { password: 'pw' } })
    const failing = await startFakeServer({ auth: { password: 'pw' }, onExec: (_c, s) => (s.stderr.write('bad\n'), s.exit(2), s.end()) })
    const hang = await startFakeServer({ auth: { password: 'pw' }, onExec: () => undefined })
    const refused = await closedPort()
    try {
      const targets = [
        target(good.host, good.port),
        target('127.0.0.1', pit.port),
        target(failing.host, failing.port),
        target('127.0.0.1', refused),
        target(hang.host, hang.port),
        target('web1.example.test', 22),
      ]
      const res = await run(targets, {
        concurrency: 3,
        session: { connectTimeoutMs: 700, commandTimeoutMs: 700, killGraceMs: 100, lookup: failingLookup('ENOTFOUND') },
      })
      assert.equal(res.results.length, targets.length)
      assert.deepEqual(
        res.results.map((r) => r.target),
        targets,
      )
      assert.deepEqual(
        res.results.map((r) => [r.status, r.errorKind]),
        [
          ['success', null],
          ['error', 'connect timeout'],
          ['failed', null],
          ['error', 'refused'],
          ['timeout', null],
          ['error', 'dns'],
        ],
      )
      assert.equal(res.reporter.finished.length, targets.length)
    } finally {
      await Promise.all([pit.close(), good.close(), failing.close(), hang.close()])
    }
  })
})

describe('engine against real sshd', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let sshd: Sshd
  before(async () => {
    sshd = await startSshd({ hostKeyTypes: ['ed25519', 'rsa'], user: await loginUser() })
  })
  after(async () => {
    await sshd?.stop()
  })

  const policy = (knownHosts: string) => hostKeyPolicy({ strict: true, knownHosts: parseKnownHosts(knownHosts), fingerprints: [] })

  it('prefers the host key algorithm of the known entry (a pinned RSA key is not refused)', async () => {
    const rsa = sshd.knownHosts
      .split('\n')
      .filter((l) => l.includes(' ssh-rsa '))
      .join('\n')
    assert.ok(rsa)
    const res = await run([target(sshd.host, sshd.port, sshd.username)], { session: { credentials: { privateKey: sshd.clientKey }, hostKeys: policy(rsa) } })
    assert.equal(res.results[0].status, 'success', res.results[0].error ?? '')
    assert.equal(res.results[0].hostKey?.type, 'ssh-rsa')
  })

  /** Runs a command that leaves a background child, times it out, and checks both processes are gone on the host. */
  async function timeoutLeavesNothingRunning(server: Sshd, killGraceMs: number): Promise<void> {
    const res = await run([target(server.host, server.port, server.username)], {
      session: {
        command: 'sleep 300 & echo child=$!; echo shell=$$; wait',
        credentials: { privateKey: server.clientKey },
        hostKeys: policy(server.knownHosts),
        commandTimeoutMs: 1_000,
        killGraceMs,
      },
    })
    const r = res.results[0]
    assert.equal(r.status, 'timeout', JSON.stringify(r))
    const pids = r.tail.flatMap((l) => /=(\d+)$/.exec(l)?.[1] ?? []).map(Number)
    assert.equal(pids.length, 2, r.tail.join('\n'))
    // The host is reported only once the command's processes are gone: no waiting here.
    for (const pid of pids) assert.ok(processGone(pid), `process ${pid} still runs on the host`)
  }

  it('command-timeout kills the remote process group', async () => {
    await timeoutLeavesNothingRunning(sshd, 1_000)
  })

  it('command-timeout also stops a root session, where OpenSSH ignores signal requests', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
    const rootSshd = await startSshd({})
    try {
      assert.equal(rootSshd.username, 'root')
      await timeoutLeavesNothingRunning(rootSshd, 500)
      assert.match(rootSshd.log(), /session signalling requires privilege separation/)
    } finally {
      await rootSshd.stop()
    }
  })

  it('a session whose sshd process is killed mid-command ends error promptly, not when keepalive would notice', async () => {
    // The command prints its sshd process (its parent); once that line reached the runner's spool, the test kills it.
    let killed!: (pid: number) => void
    const killedPid = new Promise<number>((resolve) => (killed = resolve))
    const spoolDir = new (class extends SpoolDir {
      override spool(maxBytes: number): OutputSpool {
        const spool = super.spool(maxBytes)
        const write = spool.write.bind(spool)
        let printed = ''
        spool.write = (chunk: Buffer) => {
          const done = write(chunk)
          printed += chunk.toString('utf8')
          const pid = /^sshd=(\d+)$/m.exec(printed)?.[1]
          if (pid !== undefined) {
            printed = ''
            process.kill(Number(pid), 'SIGKILL')
            killed(Number(pid))
          }
          return done
        }
        return spool
      }
    })()
    const res = await run([target(sshd.host, sshd.port, sshd.username)], {
      spoolDir,
      session: {
        command: 'echo sshd=$PPID; exec sleep 300',
        credentials: { privateKey: sshd.clientKey },
        hostKeys: policy(sshd.knownHosts),
        // keepalive could notice the loss only after a minute; the command would end after 5
        keepaliveIntervalMs: 60_000,
      },
    })
    assert.ok((await killedPid) > 0)
    const r = res.results[0]
    assert.equal(r.status, 'error', JSON.stringify(r))
    assert.equal(r.errorKind, 'connection lost')
    assert.ok(r.durationMs < 60_000, `took ${r.durationMs} ms`)
    assert.equal(r.tail.length, 1)
    assert.match(r.tail[0], /^sshd=\d+$/)
  })
})
