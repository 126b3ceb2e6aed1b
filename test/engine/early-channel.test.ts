/**
 * The short login's early channel (the command's channel opened right behind the key's signed
 * request): sent only to servers known to keep it for after the login (OpenSSH); a hang-up before
 * the login succeeded falls back to one ordinary login, and every later attempt is ordinary too;
 * a channel that opens after the session gave it up never runs the command. Against in-process
 * ssh2 servers that hang up on such a channel (as Dropbear and Go's x/crypto/ssh do) or confirm it
 * late, real OpenSSH, and real Dropbear when installed.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { SessionOptions, SessionOutcome } from '../../src/engine/host/session.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { runCapturing } from '../helpers/engine.js'
import { knownHostsPolicy, runEngine, target } from '../helpers/engine.js'
import { loginUser } from '../helpers/fleet.js'
import { haveDropbear, startAgent, startDropbear, startPickyServer, type Dropbear } from '../helpers/login-servers.js'
import { tcpProxy } from '../helpers/net.js'
import { generateClientKey } from '../helpers/ssh2-server.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'
const unchecked = hostKeyPolicy({ strict: false, knownHosts: null, fingerprints: [] })

function run(opts: Pick<SessionOptions, 'target' | 'command' | 'credentials'> & Partial<SessionOptions>): Promise<{ outcome: SessionOutcome; text: string }> {
  return runCapturing({ hostKeys: unchecked, ...opts })
}

describe('the early channel against servers that do not keep it for after the login', () => {
  const key = generateClientKey().private
  const credentials = { privateKey: key, password: 'pw' }

  it('a server that is not OpenSSH gets no channel before the login: key refused, password accepted, on one connection', async () => {
    const server = await startPickyServer({ early: 'hang up' })
    try {
      const { outcome, text } = await run({ target: target('127.0.0.1', server.port), command: 'x', credentials })
      assert.equal(outcome.status, 'success', outcome.error ?? '')
      assert.equal(text, 'ok\n')
      assert.deepEqual(server.seen, [{ earlyChannels: 0, auth: ['key signed', 'password'], execs: ['x'] }])
    } finally {
      await server.close()
    }
  })

  it('a server calling itself OpenSSH that hangs up on the early channel after the key was refused: one ordinary login on a new connection', async () => {
    const server = await startPickyServer({ early: 'hang up', ident: 'OpenSSH_9.6p1' })
    try {
      const { outcome, text } = await run({ target: target('127.0.0.1', server.port), command: 'x', credentials })
      assert.equal(outcome.status, 'success', outcome.error ?? '')
      assert.equal(text, 'ok\n')
      assert.equal(server.seen.length, 2, JSON.stringify(server.seen))
      assert.equal(server.seen[0].earlyChannels, 1)
      assert.deepEqual(server.seen[0].execs, [])
      // The ordinary login: the key's query first, no channel before the login.
      assert.deepEqual(server.seen[1], { earlyChannels: 0, auth: ['key query', 'password'], execs: ['x'] })
    } finally {
      await server.close()
    }
  })

  it('when that ordinary login is lost too, the retry is an ordinary login as well, never the same short login', async () => {
    // Connection 1: the short login, lost at the early channel; 2: the ordinary login, dropped at once; 3: the retry.
    const server = await startPickyServer({ early: 'hang up', ident: 'OpenSSH_9.6p1', dropConnections: [2] })
    try {
      const res = await runEngine([target('127.0.0.1', server.port)], { retries: 2, retryBaseDelayMs: 1, session: { command: 'x', credentials } })
      const [r] = res.results
      assert.equal(r.status, 'success', r.error ?? '')
      assert.equal(r.attempts, 2)
      assert.equal(server.seen.length, 3, JSON.stringify(server.seen))
      assert.deepEqual(
        server.seen.map((s) => s.earlyChannels),
        [1, 0, 0],
      )
      assert.deepEqual(server.seen[2], { earlyChannels: 0, auth: ['key query', 'password'], execs: ['x'] })
    } finally {
      await server.close()
    }
  })

  it('an early channel the server opens only after another method logged in is closed unused: the command runs once', async () => {
    // ssh2 used to send the exec request as soon as a channel opened: here the command would run twice.
    const server = await startPickyServer({ early: 'open after login', ident: 'OpenSSH_9.6p1' })
    try {
      const { outcome, text } = await run({ target: target('127.0.0.1', server.port), command: 'x', credentials })
      assert.equal(outcome.status, 'success', outcome.error ?? '')
      assert.equal(text, 'ok\n')
      assert.deepEqual(server.seen, [{ earlyChannels: 1, auth: ['key signed', 'password'], execs: ['x'] }])
    } finally {
      await server.close()
    }
  })
})

describe('the early channel against real OpenSSH', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let sshd: Sshd
  let dir: string
  before(async () => {
    sshd = await startSshd({ user: await loginUser() })
    dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-early-'))
  })
  after(async () => {
    await sshd?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('OpenSSH keeps quiet about the early channel when the key is refused: the agent logs in on the same connection, the command runs once', async () => {
    const agent = await startAgent(dir, sshd.clientKey)
    const proxy = await tcpProxy(sshd)
    try {
      const { outcome, text } = await run({
        target: target(proxy.host, proxy.port, sshd.username),
        command: 'echo ran',
        credentials: { privateKey: generateClientKey().private, agent: agent.socket },
        hostKeys: knownHostsPolicy(sshd.knownHosts.replaceAll(`[${sshd.host}]:${sshd.port}`, `[${proxy.host}]:${proxy.port}`)),
      })
      assert.equal(outcome.status, 'success', outcome.error ?? '')
      assert.equal(text, 'ran\n')
      assert.equal(proxy.accepted, 1)
    } finally {
      agent.stop()
      await proxy.close()
    }
  })
})

describe(
  'real Dropbear (exits on a channel opened before the login: "message 90 before userauth")',
  { skip: !haveDropbear() && 'dropbear not installed' },
  () => {
    let dir: string
    let dropbear: Dropbear
    let username: string
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-dropbear-'))
      dropbear = await startDropbear(dir)
      username = (await loginUser()) ?? userInfo().username
    })
    after(async () => {
      await dropbear?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    it('key refused, then the agent: authentication fails naming both, on one connection (not "connection lost")', async () => {
      // Neither key is authorized: this shows the early channel, which Dropbear would answer by exiting before the agent's turn.
      const agent = await startAgent(dir, generateClientKey().private)
      try {
        const before = dropbear.accepted
        const { outcome } = await run({
          target: target(dropbear.host, dropbear.port, username),
          command: 'echo ran',
          credentials: { privateKey: generateClientKey().private, agent: agent.socket },
          hostKeys: knownHostsPolicy(dropbear.knownHostsLine),
        })
        assert.equal(outcome.errorKind, 'authentication', JSON.stringify(outcome))
        assert.match(outcome.error!, new RegExp(`^authentication failed for user "${username}" \\(tried: key, agent; the server offers: publickey`))
        assert.equal(dropbear.accepted - before, 1)
      } finally {
        agent.stop()
      }
    })
  },
)
