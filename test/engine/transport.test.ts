/**
 * Transports: our own TCP connection, and direct-tcpip channels through one SSH session to a
 * real OpenSSH bastion.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { parseKnownHosts } from '../../src/engine/trust/known-hosts.js'
import type { HostTarget } from '../../src/engine/model.js'
import { DirectTransport, TransportError } from '../../src/engine/ssh/transport.js'
import { JumpTransport, type JumpEvent, type JumpHostOptions } from '../../src/engine/ssh/jump.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { cautiousProxy } from '../helpers/cautious-proxy.js'
import { closedPort, tarpit, tcpProxy } from '../helpers/net.js'
import { requireSshd } from '../helpers/sshd.js'

function target(host: string, port: number, username = 'nobody'): HostTarget {
  return { host, port, username, label: port === 22 ? host : `${host}:${port}` }
}

/** The first line the stream delivers (an SSH server's banner); the stream stays open and flowing. */
function firstLine(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1')
      if (!text.includes('\n')) return
      stream.off('data', onData)
      resolve(text.split('\n')[0].trim())
    }
    stream.on('data', onData).once('error', reject)
  })
}

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof TransportError, String(err))
    return err
  }
  assert.fail('expected a rejection')
}

describe('DirectTransport', () => {
  it('opens a TCP stream; a closed port is refused (retryable)', async () => {
    const t = new DirectTransport()
    await t.ready()
    const port = await closedPort()
    const err = await rejection(t.open(target('127.0.0.1', port), new AbortController().signal))
    assert.equal(err.kind, 'refused')
    assert.equal(err.retryable, true)
  })

  it('sends the writes of one tick in one system call (a flight leaves as one write), in order', async () => {
    const received: Buffer[] = []
    let ended!: Promise<unknown>
    const server = createServer((s) => {
      s.on('data', (d: Buffer) => received.push(d))
      ended = once(s, 'end')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const { stream } = await new DirectTransport().open(target('127.0.0.1', port), new AbortController().signal)
    const socket = stream as Socket
    try {
      const calls: string[] = []
      const writev = socket._writev!.bind(socket)
      const write = socket._write.bind(socket)
      socket._writev = (chunks, cb) => (calls.push(`writev ${chunks.length}`), writev(chunks, cb))
      socket._write = (chunk, enc, cb) => (calls.push('write'), write(chunk, enc, cb))
      for (const part of ['one ', 'two ', 'three']) socket.write(Buffer.from(part))
      assert.equal(socket.writableCorked, 1, 'corked until the tick ends')
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(socket.writableCorked, 0)
      assert.deepEqual(calls, ['writev 3'])
      socket.write(Buffer.from(' four'))
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(calls, ['writev 3', 'write'], 'the next tick is a flight of its own')
      socket.end()
      await ended
      assert.equal(Buffer.concat(received).toString(), 'one two three four')
    } finally {
      socket.destroy()
      server.close()
    }
  })

  it('gives up when aborted before the connection is made', async () => {
    const t = new DirectTransport()
    const abort = new AbortController()
    abort.abort()
    const err = await rejection(t.open(target('127.0.0.1', 9), abort.signal))
    assert.equal(err.kind, 'cancelled')
  })
})

describe('JumpTransport through a real OpenSSH bastion', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let fleet: Fleet
  before(async () => {
    fleet = await startFleet(['127.0.0.1', '127.0.0.2'], { extraConfig: ['LogLevel DEBUG1'] })
  })
  after(async () => {
    await fleet?.stop()
  })

  const bastionOf = (f: Fleet) => target(f.servers[0].host, f.servers[0].port, f.username)
  const targetOf = (f: Fleet) => target(f.servers[1].host, f.servers[1].port, f.username)
  function jump(overrides: Partial<JumpHostOptions> = {}, events: JumpEvent[] = []): JumpTransport {
    return new JumpTransport({
      bastion: bastionOf(fleet),
      credentials: { privateKey: fleet.clientKey },
      hostKeys: hostKeyPolicy({ strict: true, knownHosts: parseKnownHosts(fleet.knownHosts), fingerprints: [] }),
      connectTimeoutMs: 10_000,
      retries: 2,
      backoff: () => 10,
      onEvent: (e) => events.push(e),
      ...overrides,
    })
  }

  it('carries many streams over ONE login: the bastion logs one session and a forward per stream', async () => {
    const events: JumpEvent[] = []
    const t = jump({}, events)
    try {
      const before = (fleet.servers[0].log().match(/Accepted publickey/g) ?? []).length
      const links = await Promise.all(Array.from({ length: 5 }, () => t.open(targetOf(fleet), new AbortController().signal)))
      for (const link of links) assert.match(await firstLine(link.stream), /^SSH-2\.0-OpenSSH/)
      for (const link of links) link.stream.destroy()
      const log = await fleet.servers[0].waitForLog(/(?:direct-tcpip[\s\S]*){5}/)
      assert.equal((log.match(/Accepted publickey/g) ?? []).length - before, 1, log)
      assert.deepEqual(
        events.map((e) => e.type),
        ['connected'],
      )
    } finally {
      t.close()
    }
  })

  it('logs in short (the first flight); a bastion that hangs up on the guess gets the ordinary login on a new connection', async () => {
    const proxy = await cautiousProxy(fleet.servers[0].port, fleet.servers[0].host)
    const known = fleet.knownHosts.replaceAll(`[${fleet.servers[0].host}]:${fleet.servers[0].port}`, `[127.0.0.1]:${proxy.port}`)
    const events: JumpEvent[] = []
    const t = jump(
      {
        bastion: target('127.0.0.1', proxy.port, fleet.username),
        hostKeys: hostKeyPolicy({ strict: true, knownHosts: parseKnownHosts(known), fingerprints: [] }),
      },
      events,
    )
    try {
      const link = await t.open(targetOf(fleet), new AbortController().signal)
      assert.match(await firstLine(link.stream), /^SSH-2\.0-OpenSSH/)
      link.stream.destroy()
      // The first connection's KEXINIT said a guess follows: hung up on; the second came without one.
      assert.deepEqual(proxy.guesses, [true, false])
      assert.deepEqual(
        events.map((e) => e.type),
        ['connected'],
      )
      // Later connections to this bastion log in the ordinary way at once.
      assert.equal((t as unknown as { shortLogin: boolean }).shortLogin, false)
    } finally {
      t.close()
      await proxy.close()
    }
  })

  // OpenSSH presents Ed25519 first; a bastion trusted only by its RSA key must be asked for it, as a target is.
  const rsaOnly = {
    'a known-hosts line': () => {
      const line = fleet.servers[0].knownHosts.split('\n').find((l) => l.includes(' ssh-rsa '))!
      return hostKeyPolicy({ strict: true, knownHosts: parseKnownHosts(line), fingerprints: [] })
    },
    'a fingerprint': () => {
      const rsa = fleet.servers[0].hostKeys.find((k) => k.type === 'ssh-rsa')!
      return hostKeyPolicy({ strict: true, knownHosts: null, fingerprints: [{ pattern: null, fingerprint: rsa.fingerprint }] })
    },
  }
  for (const [how, policy] of Object.entries(rsaOnly)) {
    it(`a bastion trusted only by its RSA key (${how}) is accepted, with that key`, async () => {
      const events: JumpEvent[] = []
      const t = jump({ hostKeys: policy() }, events)
      try {
        const link = await t.open(targetOf(fleet), new AbortController().signal)
        assert.match(await firstLine(link.stream), /^SSH-2\.0-OpenSSH/)
        link.stream.destroy()
        const rsa = fleet.servers[0].hostKeys.find((k) => k.type === 'ssh-rsa')!
        assert.deepEqual(events, [{ type: 'connected', attempts: 1, hostKey: { type: 'ssh-rsa', fingerprint: rsa.fingerprint } }])
      } finally {
        t.close()
      }
    })
  }

  it('a bastion none of whose keys is pinned is refused, naming every key it presented', async () => {
    const t = jump({ hostKeys: hostKeyPolicy({ strict: true, knownHosts: null, fingerprints: [{ pattern: null, fingerprint: `SHA256:${'A'.repeat(43)}` }] }) })
    try {
      const err = await rejection(t.ready())
      assert.equal(err.kind, 'jump host')
      for (const k of fleet.servers[0].hostKeys) assert.ok(err.message.includes(`${k.type} ${k.fingerprint}`), `${k.type} missing from: ${err.message}`)
      assert.match(err.message, /when asked for its other key types/)
    } finally {
      t.close()
    }
  })

  it('closing the transport ends the bastion session without a "lost" event', async () => {
    const events: JumpEvent[] = []
    const t = jump({}, events)
    const link = await t.open(targetOf(fleet), new AbortController().signal)
    assert.match(await firstLine(link.stream), /^SSH-2\.0-OpenSSH/)
    // ssh2 emits the client's 'close' before it closes the channels that went through it.
    const closed = once(link.stream, 'close')
    t.close()
    await closed
    assert.deepEqual(
      events.map((e) => e.type),
      ['connected'],
    )
  })

  it('a forward to a closed port is refused, naming the jump host', async () => {
    const t = jump()
    try {
      const port = await closedPort('127.0.0.2')
      const err = await rejection(t.open(target('127.0.0.2', port), new AbortController().signal))
      assert.equal(err.kind, 'refused')
      assert.match(err.message, /jump host 127\.0\.0\.1:\d+/)
    } finally {
      t.close()
    }
  })

  it('an untrusted bastion key fails at once, without retries, naming the bastion and its key', async () => {
    const events: JumpEvent[] = []
    const t = jump({ hostKeys: hostKeyPolicy({ strict: true, knownHosts: parseKnownHosts(''), fingerprints: [] }) }, events)
    try {
      const err = await rejection(t.ready())
      assert.equal(err.kind, 'jump host')
      assert.match(err.message, /^jump host 127\.0\.0\.1:\d+ unavailable: host key: 127\.0\.0\.1:\d+ presented ssh-\S+ SHA256:/)
      assert.deepEqual(
        events.map((e) => e.type),
        ['failed'],
      )
      // Every later host fails the same way, without a new attempt.
      const again = await rejection(t.open(targetOf(fleet), new AbortController().signal))
      assert.equal(again, err)
    } finally {
      t.close()
    }
  })

  it('a bastion refusing our login fails without retries, listing the methods', async () => {
    const t = jump({ bastion: { ...bastionOf(fleet), username: 'no-such-user-here' } })
    try {
      const err = await rejection(t.ready())
      assert.equal(err.kind, 'jump host')
      assert.match(err.message, /unavailable: authentication failed for user "no-such-user-here" \(tried: key/)
    } finally {
      t.close()
    }
  })

  it('an unreachable bastion is retried, then fails naming it', async () => {
    const events: JumpEvent[] = []
    const port = await closedPort()
    const t = jump({ bastion: target('127.0.0.1', port, fleet.username), retries: 2 }, events)
    try {
      const err = await rejection(t.ready())
      assert.equal(err.kind, 'jump host')
      assert.match(err.message, new RegExp(`^jump host 127\\.0\\.0\\.1:${port} unavailable: refused`))
      assert.deepEqual(
        events.map((e) => e.type),
        ['retrying', 'retrying', 'failed'],
      )
    } finally {
      t.close()
    }
  })

  it('a bastion that stalls times out per attempt', async () => {
    const pit = await tarpit()
    const t = jump({ bastion: target('127.0.0.1', pit.port, fleet.username), retries: 0, connectTimeoutMs: 300 })
    try {
      const err = await rejection(t.ready())
      assert.equal(err.kind, 'jump host')
      assert.match(err.message, /stalled during SSH handshake/)
    } finally {
      t.close()
      await pit.close()
    }
  })

  it('when the bastion session drops, its streams say so, and the next host reconnects', async () => {
    const proxy = await tcpProxy({ host: fleet.servers[0].host, port: fleet.servers[0].port })
    const events: JumpEvent[] = []
    let onLost = () => undefined as void
    // The proxy forwards to the bastion; its known_hosts name is [127.0.0.1]:bastionPort, so trust by fingerprint.
    const fingerprints = fleet.servers[0].hostKeys.map((k) => ({ pattern: null, fingerprint: k.fingerprint }))
    const t = jump({
      bastion: target(proxy.host, proxy.port, fleet.username),
      hostKeys: hostKeyPolicy({ strict: true, knownHosts: null, fingerprints }),
      onEvent: (e) => {
        events.push(e)
        if (e.type === 'lost') onLost()
      },
    })
    try {
      const link = await t.open(targetOf(fleet), new AbortController().signal)
      assert.match(await firstLine(link.stream), /^SSH-2\.0-OpenSSH/)
      const closed = once(link.stream, 'close')
      const lost = new Promise<void>((resolve) => (onLost = resolve))
      proxy.cut()
      await Promise.all([closed, lost])
      assert.match(link.lostReason() ?? '', /^connection lost: jump host 127\.0\.0\.1:\d+/)
      const next = await t.open(targetOf(fleet), new AbortController().signal)
      assert.match(await firstLine(next.stream), /^SSH-2\.0-OpenSSH/)
      next.stream.destroy()
      assert.equal(proxy.accepted, 2)
      assert.deepEqual(
        events.map((e) => e.type),
        ['connected', 'lost', 'connected'],
      )
    } finally {
      t.close()
      await proxy.close()
    }
  })
})
