/**
 * Smoke tests for the shared SSH fixtures: a real sshd (test/helpers/sshd.ts)
 * and the in-process ssh2 server (test/helpers/ssh2-server.ts), each driven by
 * real clients (OpenSSH `ssh` and ssh2.Client).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import net from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import ssh2 from 'ssh2'
import type { ClientChannel, ConnectConfig } from 'ssh2'
import { ensureLoginUser, requireSshd, startSshd, type Sshd } from './sshd.js'
import { fingerprintOf, generateClientKey, startFakeServer, type FakeServer } from './ssh2-server.js'

// ---------------------------------------------------------------------------
// small client helpers

function connect(config: ConnectConfig): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    client.once('ready', () => resolve(client))
    client.once('error', reject)
    client.connect({ readyTimeout: 10_000, ...config })
  })
}

function execStream(client: ssh2.Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => (err ? reject(err) : resolve(stream)))
  })
}

interface ExecResult {
  stdout: string
  stderr: string
  code: number | null
  signal: string | undefined
}

/** Collects output until the channel closes; close args are (code) or (null, 'SIGxxx'). */
function collect(stream: ClientChannel): Promise<ExecResult> {
  let stdout = ''
  let stderr = ''
  stream.on('data', (d: Buffer) => (stdout += d.toString()))
  stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => {
    stream.once('close', (code: number | null, signal?: string) => resolve({ stdout, stderr, code, signal }))
  })
}

async function exec(client: ssh2.Client, command: string): Promise<ExecResult> {
  const stream = await execStream(client, command)
  stream.end()
  return collect(stream)
}

/** Resolves with the first line of stdout. */
function firstLine(stream: ClientChannel): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const onData = (d: Buffer): void => {
      buf += d.toString()
      const nl = buf.indexOf('\n')
      if (nl === -1) return
      stream.off('data', onData)
      stream.off('close', onClose)
      resolve(buf.slice(0, nl))
    }
    const onClose = (): void => reject(new Error(`channel closed before a full line; got ${JSON.stringify(buf)}`))
    stream.on('data', onData)
    stream.once('close', onClose)
  })
}

/**
 * Sends a 'signal' channel request even after stdin was ended: ssh2's public
 * stream.signal() silently does nothing once the stream is no longer writable.
 */
function rawSignal(client: ssh2.Client, stream: ClientChannel, name: string): void {
  const protocol = (client as unknown as { _protocol: { signal(channelId: number, signal: string): void } })._protocol
  protocol.signal((stream.outgoing as { id: number }).id, name)
}

/** Live and not a zombie (a re-parented zombie may linger if PID 1 doesn't reap). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** There is no event for the death of a process we didn't spawn: poll briefly (the timeout only bounds a failing test). */
async function waitForPidGone(pid: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) assert.fail(`pid ${pid} still alive after ${timeoutMs} ms`)
    await delay(20)
  }
}

function runSsh(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return once(child, 'close').then(([code]) => ({ stdout, stderr, code: code as number | null }))
}

// ---------------------------------------------------------------------------

describe('sshd fixture (real OpenSSH)', { skip: !requireSshd() && 'sshd not installed', timeout: 120_000 }, () => {
  let sshd: Sshd

  before(async () => {
    sshd = await startSshd()
  })
  after(async () => {
    await sshd?.stop()
  })

  const clientConfig = (): ConnectConfig => ({
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.clientKey,
  })

  test('system ssh client: strict host key checking against knownHosts, stdout and exit code', async (t) => {
    const knownHostsPath = join(sshd.dir, 'known_hosts.test')
    writeFileSync(knownHostsPath, sshd.knownHosts)
    const res = await runSsh([
      '-F',
      '/dev/null',
      '-i',
      sshd.clientKeyPath,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${knownHostsPath}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-p',
      String(sshd.port),
      `${sshd.username}@${sshd.host}`,
      'echo ok; exit 3',
    ])
    if (res.code !== 3) t.diagnostic(`ssh stderr: ${res.stderr}\nsshd log:\n${sshd.log()}`)
    assert.equal(res.stdout, 'ok\n')
    assert.equal(res.code, 3)
  })

  test('ssh2 client: exec, exit code, and the host key it sees is one of hostKeys', async () => {
    let seen: string | undefined
    const client = await connect({
      ...clientConfig(),
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key)
        return sshd.hostKeys.some((k) => k.fingerprint === seen)
      },
    })
    try {
      const res = await exec(client, 'printf hi')
      assert.deepEqual(res, { stdout: 'hi', stderr: '', code: 0, signal: undefined })
      assert.ok(seen && sshd.hostKeys.some((k) => k.fingerprint === seen), `unexpected host key ${seen}`)
    } finally {
      client.end()
    }
  })

  test('every host key type is served with the advertised fingerprint and known_hosts line', async () => {
    const algorithmFor: Record<string, string> = {
      'ssh-ed25519': 'ssh-ed25519',
      'ecdsa-sha2-nistp256': 'ecdsa-sha2-nistp256',
      'ssh-rsa': 'rsa-sha2-512',
    }
    assert.deepEqual(sshd.hostKeys.map((k) => k.type).sort(), Object.keys(algorithmFor).sort())
    for (const hostKey of sshd.hostKeys) {
      let seen: string | undefined
      const client = await connect({
        ...clientConfig(),
        algorithms: { serverHostKey: [algorithmFor[hostKey.type]] as ssh2.ServerHostKeyAlgorithm[] },
        hostVerifier: (key: Buffer) => {
          seen = fingerprintOf(key)
          return true
        },
      })
      client.end()
      assert.equal(seen, hostKey.fingerprint, hostKey.type)
      assert.ok(sshd.knownHosts.includes(`[${sshd.host}]:${sshd.port} ${hostKey.publicLine}\n`))
    }
  })

  test(
    'root login: OpenSSH ignores signal requests (root sessions run in the privsep monitor)',
    {
      skip: process.getuid?.() !== 0 && 'not running as root',
    },
    async () => {
      const client = await connect(clientConfig())
      try {
        const stream = await execStream(client, 'echo $$; exec sleep 300')
        const pid = Number(await firstLine(stream))
        const closed = collect(stream)
        stream.end()
        rawSignal(client, stream, 'TERM')
        await sshd.waitForLog(/session signalling requires privilege separation/)
        assert.ok(isAlive(pid), 'the signal should not have been delivered')
        process.kill(pid, 'SIGTERM') // sshd still reports how the command ended
        const res = await closed
        assert.equal(res.signal, 'SIGTERM')
      } finally {
        client.end()
      }
    },
  )

  describe('signals, logged in as an unprivileged user', () => {
    let target: Sshd
    before(async () => {
      // as root, log in as a dedicated account (created if missing); otherwise as ourselves.
      // DEBUG1 makes sshd log how it delivers the signal
      const user = process.getuid?.() === 0 ? await ensureLoginUser() : undefined
      target = await startSshd({ user, hostKeyTypes: ['ed25519'], extraConfig: ['LogLevel DEBUG1'] })
    })
    after(async () => {
      await target?.stop()
    })
    const targetConfig = (): ConnectConfig => ({
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.clientKey,
    })

    test('raw TERM signal after end of stdin kills the remote command', async () => {
      const client = await connect(targetConfig())
      try {
        const stream = await execStream(client, 'echo $$; exec sleep 300')
        const pid = Number(await firstLine(stream))
        assert.ok(Number.isInteger(pid) && pid > 1, `bad pid ${pid}`)
        assert.ok(isAlive(pid), 'remote command should be running')
        const closed = collect(stream)
        stream.end()
        rawSignal(client, stream, 'TERM')
        // the exit signal says what ended it: the TERM, not the end of a 5-minute sleep
        const res = await closed
        assert.equal(res.signal, 'SIGTERM', `closed with code ${res.code} signal ${res.signal}\n${target.log()}`)
        assert.equal(res.code, null)
        // sshd reaped it before sending exit-signal
        assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
        // sshd signals the process group, whose id is the command's pid (sshd calls setsid() for it)
        await target.waitForLog(new RegExp(`session_signal_req: signal TERM, killpg\\(${pid}, 15\\)`))
      } finally {
        client.end()
      }
    })

    test('the signal goes to the whole process group of the command', async () => {
      const client = await connect(targetConfig())
      try {
        // a background job of a non-interactive shell stays in the shell's process group
        const stream = await execStream(client, 'sleep 30 & echo $!; wait')
        const sleepPid = Number(await firstLine(stream))
        assert.ok(isAlive(sleepPid))
        const closed = collect(stream)
        stream.end()
        rawSignal(client, stream, 'TERM')
        const res = await closed
        assert.equal(res.signal, 'SIGTERM')
        await waitForPidGone(sleepPid)
      } finally {
        client.end()
      }
    })
  })

  test('several fixtures run at once on different ports', async () => {
    const other = await startSshd({ host: '127.0.0.2', hostKeyTypes: ['ed25519'], clientKeyType: 'rsa' })
    try {
      assert.notEqual(`${other.host}:${other.port}`, `${sshd.host}:${sshd.port}`)
      const client = await connect({ host: other.host, port: other.port, username: other.username, privateKey: other.clientKey })
      try {
        assert.equal((await exec(client, 'echo second')).stdout, 'second\n')
      } finally {
        client.end()
      }
      assert.match(other.log(), /Accepted publickey for /)
    } finally {
      await other.stop()
    }
  })
})

describe('fake ssh2 server fixture', { timeout: 60_000 }, () => {
  const servers: FakeServer[] = []
  const start = async (...args: Parameters<typeof startFakeServer>): Promise<FakeServer> => {
    const s = await startFakeServer(...args)
    servers.push(s)
    return s
  }
  after(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })

  test('password auth, default exec reply, host key fingerprint, recorded commands', async () => {
    const fake = await start({ auth: { password: 'pw' } })
    let seen: string | undefined
    const client = await connect({
      host: fake.host,
      port: fake.port,
      username: 'anyone',
      password: 'pw',
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key)
        return true
      },
    })
    try {
      assert.deepEqual(await exec(client, 'uptime'), { stdout: 'ran: uptime\n', stderr: '', code: 0, signal: undefined })
      assert.equal(seen, fake.hostKeyPublic.fingerprint)
      assert.deepEqual(fake.commands, ['uptime'])
      assert.equal(fake.connections, 1)
      assert.match(fake.hostKeyPublic.knownHostsLine, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${fake.port} ssh-ed25519 AAAA`))
    } finally {
      client.end()
    }
  })

  test('wrong password is rejected', async () => {
    const fake = await start({ auth: { password: 'pw' } })
    await assert.rejects(connect({ host: fake.host, port: fake.port, username: 'u', password: 'nope' }), {
      level: 'client-authentication',
    })
  })

  test('keyboard-interactive auth', async () => {
    const fake = await start({ auth: { keyboardInteractive: 'secret' } })
    const client = new ssh2.Client()
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
      assert.equal(prompts.length, 1)
      finish(['secret'])
    })
    const ready = once(client, 'ready')
    client.connect({ host: fake.host, port: fake.port, username: 'u', tryKeyboard: true, readyTimeout: 10_000 })
    await ready
    try {
      assert.equal((await exec(client, 'id')).stdout, 'ran: id\n')
    } finally {
      client.end()
    }
  })

  test('public key auth (ed25519 and rsa)', async () => {
    for (const type of ['ed25519', 'rsa'] as const) {
      const key = generateClientKey(type)
      const fake = await start({ auth: { publicKey: key.public } })
      const client = await connect({ host: fake.host, port: fake.port, username: 'u', privateKey: key.private })
      client.end()
      const stranger = generateClientKey(type)
      await assert.rejects(connect({ host: fake.host, port: fake.port, username: 'u', privateKey: stranger.private }), {
        level: 'client-authentication',
      })
    }
  })

  test('custom onExec sees signals sent after end of stdin (raw request; stream.signal() is a no-op then)', async () => {
    let received: string[] = []
    const fake = await start({
      onExec: (_command, stream, info) => {
        received = info.signals
        stream.write('started\n')
        info.onSignal((name) => {
          stream.exit(name)
          stream.end()
        })
      },
    })
    const client = await connect({ host: fake.host, port: fake.port, username: 'u' })
    try {
      const stream = await execStream(client, 'long-running')
      assert.equal(await firstLine(stream), 'started')
      const closed = collect(stream)
      stream.end()
      stream.signal('INT') // dropped by ssh2: the stream is no longer writable
      rawSignal(client, stream, 'TERM')
      const res = await closed
      assert.equal(res.signal, 'SIGTERM')
      // requests on a channel arrive in order: had INT been sent it would come first
      assert.deepEqual(received, ['TERM'])
    } finally {
      client.end()
    }
  })

  test("stall 'banner': a tarpit accepts TCP and sends nothing", async () => {
    const fake = await start({ stall: 'banner' })
    const sock = net.connect({ host: fake.host, port: fake.port })
    try {
      await once(sock, 'connect')
      const first = await Promise.race([once(sock, 'data').then(() => 'data'), delay(500, 'silence')])
      assert.equal(first, 'silence')
      assert.equal(fake.connections, 1)
    } finally {
      sock.destroy()
    }
  })

  test("stall 'handshake': banner arrives, key exchange never completes", async () => {
    const fake = await start({ stall: 'handshake' })
    const client = new ssh2.Client()
    let handshake = false
    client.on('handshake', () => (handshake = true))
    const failed = once(client, 'error')
    client.connect({ host: fake.host, port: fake.port, username: 'u', readyTimeout: 1_000 })
    const [err] = (await failed) as [Error & { level?: string }]
    assert.match(err.message, /Timed out while waiting for handshake/)
    assert.equal(handshake, false)
    client.end()
  })

  test("stall 'auth': handshake completes, authentication never does", async () => {
    const fake = await start({ stall: 'auth' })
    const client = new ssh2.Client()
    client.on('error', () => {})
    const handshake = once(client, 'handshake')
    const ready = once(client, 'ready').then(() => 'ready')
    client.connect({ host: fake.host, port: fake.port, username: 'u', password: 'pw', readyTimeout: 60_000 })
    try {
      await handshake
      assert.equal(await Promise.race([ready, delay(1_000, 'still waiting')]), 'still waiting')
    } finally {
      client.end()
    }
  })
})
