/**
 * Host key revocation, login names and input limits, through the built bundle run as the runner runs it.
 */
import assert from 'node:assert/strict'
import { connect, createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { loginUser } from '../helpers/fleet.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'

const haveSshd = requireSshd()

describe('@revoked and login names against real sshd', { skip: !haveSshd && 'sshd not installed' }, () => {
  let s: Sshd
  before(async () => {
    s = await startSshd({ hostKeyTypes: ['ed25519'], user: await loginUser() })
  })
  after(async () => {
    await s?.stop()
  })

  const base = () => ({ hosts: `${s.host}:${s.port}`, username: s.username, 'private-key': s.clientKey, command: 'echo RAN-ON-HOST' })
  const hostKey = () => s.hostKeys[0].publicLine

  it('with strict-host-key-checking false, a key marked @revoked is refused and no command runs', async () => {
    const run = await runAction({ ...base(), 'strict-host-key-checking': 'false', 'known-hosts': `@revoked * ${hostKey()}` })
    assert.equal(run.code, 1, run.stdout)
    const [r] = results(run)
    assert.equal(r.status, 'error')
    assert.match(String(r.error), /^host key: .*marked @revoked in known-hosts \(refused even with strict-host-key-checking: false\)/)
    assert.ok(String(r.error).includes(s.hostKeys[0].fingerprint), String(r.error))
    assert.ok(!run.stdout.includes('RAN-ON-HOST'), run.stdout)
  })

  it('@revoked for other hosts only leaves this host trusted by its own line (as OpenSSH scopes it)', async () => {
    const knownHosts = `@revoked old.example.com,[${s.host}]:1 ${hostKey()}\n${s.knownHosts}`
    const run = await runAction({ ...base(), 'known-hosts': knownHosts })
    assert.equal(run.code, 0, run.stdout)
    assert.equal(results(run)[0].status, 'success')
    assert.ok(run.stdout.includes('RAN-ON-HOST'))
    const revokedHere = await runAction({ ...base(), 'known-hosts': `@revoked [${s.host}]:${s.port} ${hostKey()}\n${s.knownHosts}` })
    assert.equal(revokedHere.code, 1)
    assert.match(String(results(revokedHere)[0].error), /marked @revoked in known-hosts$/)
  })

  it('user@domain@host logs in as user@domain, as ssh does', async () => {
    const run = await runAction({ ...base(), hosts: `jane@corp.example@${s.host}:${s.port}`, 'known-hosts': s.knownHosts })
    assert.equal(run.code, 1, 'no such account on the test host')
    const [r] = results(run)
    assert.equal(r.username, 'jane@corp.example')
    assert.equal(r.host, s.host)
    assert.match(String(r.error), /^auth/)
    await s.waitForLog(/Invalid user jane@corp\.example from/)
  })
})

describe('input limits fail before any host is contacted', () => {
  const key = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBJCakZcicRgEZSLnwSQZb96m6SKA2hQZUzbvD/ZVafKQAAAJBxZauVcWWr
lQAAAAtzc2gtZWQyNTUxOQAAACBJCakZcicRgEZSLnwSQZb96m6SKA2hQZUzbvD/ZVafKQ
AAAEDfBeeYArX7zBtJqyfxmxhkcJY0dYLO4q2A/8YjR7LV4kkJqRlyJxGARlIufBJBlv3q
bpIoDaFBlTNu8P9lVp8pAAAAB3Jvb3RAdm0BAgMEBQY=
-----END OPENSSH PRIVATE KEY-----`
  const keyLine = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlwnxMEDBX3EHxm6OqOABC/JO6gixirKizea8JQ3Yqf'
  const good = { hosts: '127.0.0.1:1', username: 'deploy', command: 'true', 'private-key': key, 'known-hosts': `[127.0.0.1]:1 ${keyLine}` }
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['connect-timeout 600h', { 'connect-timeout': '600h' }, /^Input "connect-timeout": "600h" is too long a duration; give at most 24 days \(596h\)$/],
    ['command-timeout 600h', { 'command-timeout': '600h' }, /^Input "command-timeout": "600h" is too long a duration; give at most 24 days \(596h\)$/],
    ['retries 11', { retries: '11' }, /^Input "retries": "11" is not a whole number from 0 to 10/],
    [
      'known-hosts with only @revoked lines',
      { 'known-hosts': `@revoked * ${keyLine}` },
      /^Input "known-hosts": has only @revoked or @cert-authority lines \(line 1\)/,
    ],
    ['a zero-padded IPv4 range', { hosts: '127.0.0.[01-02]:1' }, /^Input "hosts": entry "127\.0\.0\.\[01-02\]:1" on line 1: .*octal.*\[1-10\], not \[01-10\]/],
    [
      'an ssh-keygen -l line in fingerprints',
      { 'known-hosts': '', fingerprints: '256 SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA root@h (ED25519)' },
      /^Input "fingerprints": line 1: "256" before the fingerprint is the key size/,
    ],
  ]
  for (const [name, override, pattern] of cases) {
    it(name, async () => {
      const run = await runAction({ ...good, ...override })
      assert.equal(run.code, 1, run.stdout)
      const errors = commandsOf(run, 'error')
      assert.equal(errors.length, 1, run.stdout)
      assert.match(errors[0].message, pattern)
      assert.equal(run.groups.length, 0, 'no host was run')
      assert.equal(run.outputs['results'], undefined)
    })
  }

  it('an oversized host entry is quoted short in the error, not repeated whole', async () => {
    // One environment variable holds at most 128 KiB on Linux, and the runner passes inputs in the environment.
    const huge = `${'a'.repeat(100_000)}/`
    const run = await runAction({ ...good, hosts: huge })
    assert.equal(run.code, 1)
    const errors = commandsOf(run, 'error')
    assert.equal(errors.length, 1)
    assert.ok(errors[0].message.length < 500, `${errors[0].message.length} characters`)
    assert.match(errors[0].message, /^Input "hosts": entry "a{40}…" \(100001 characters\) on line 1: /)
    assert.ok(run.stdout.length < 5_000, `the log has ${run.stdout.length} characters`)
  })
})

describe('safe-rollout inputs fail before any host is contacted, whether or not their command is set', () => {
  // A listener standing in for the host: it counts every connection the action opens to it.
  let port = 0
  let connections = 0
  // Our own probe connects from another loopback address, so the listener tells it from the action's.
  const PROBE_FROM = '127.0.0.2'
  let probeAccepted: (() => void) | null = null
  const server = createServer((socket) => {
    if (socket.remoteAddress === PROBE_FROM) probeAccepted?.()
    else connections++
    socket.destroy()
  })
  before(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => ((port = (server.address() as { port: number }).port), resolve()))))
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  /** The action's connections so far: once our probe is accepted, any the action (now exited) opened before it has been too. */
  async function actionConnections(): Promise<number> {
    const accepted = new Promise<void>((resolve) => (probeAccepted = resolve))
    connect({ port, host: '127.0.0.1', localAddress: PROBE_FROM }).on('error', () => undefined)
    await accepted
    return connections
  }

  const good = () => ({
    hosts: `127.0.0.1:${port}`,
    username: 'deploy',
    command: 'true',
    password: 'pw',
    'strict-host-key-checking': 'false',
    retries: '0',
  })
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['check-interval 0, no check-command', { 'check-interval': '0' }, /^Input "check-interval": must be more than 0 \(e\.g\. 5s\)$/],
    [
      'check-timeout 5s with check-interval 10s, with check-command',
      { 'check-command': 'true', 'check-timeout': '5s', 'check-interval': '10s' },
      /^Input "check-timeout": "5s" is shorter than check-interval \("10s"\); give a check-timeout of at least "10s"/,
    ],
    ['check-timeout soon, no check-command', { 'check-timeout': 'soon' }, /^Input "check-timeout": "soon" is not a duration; use seconds \(45\)/],
    [
      'preflight maybe, with preflight-command',
      { preflight: 'maybe', 'preflight-command': 'true' },
      /^Input "preflight": "maybe" is not a boolean; use true or false/,
    ],
  ]
  for (const [name, override, pattern] of cases) {
    it(name, async () => {
      const base = await actionConnections()
      const run = await runAction({ ...good(), ...override })
      assert.equal(run.code, 1, run.stdout)
      const errors = commandsOf(run, 'error')
      assert.equal(errors.length, 1, run.stdout)
      assert.match(errors[0].message, pattern)
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace')
      assert.equal(run.groups.length, 0, 'no host was run')
      assert.equal(run.outputs['results'], undefined)
      assert.equal((await actionConnections()) - base, 0, 'the host was never connected to')
    })
  }

  it('the listener sees the action when the inputs are good (so the cases above can fail)', async () => {
    const base = await actionConnections()
    const run = await runAction({ ...good(), 'check-command': 'true', 'check-interval': '1s', 'check-timeout': '2s' })
    assert.equal(run.code, 1, 'the listener is no SSH server')
    assert.ok((await actionConnections()) - base >= 1, run.stdout)
  })
})
