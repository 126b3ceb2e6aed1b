/**
 * The built bundle, run as the runner runs it, against real OpenSSH sshd fleets on loopback.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { requireSshd, type Sshd } from '../helpers/sshd.js'
import { havePuttygen } from '../helpers/tools.js'
import { whenDirSettles } from '../helpers/wait.js'

const haveSshd = requireSshd()

describe('action end to end against real sshd', { skip: !haveSshd && 'sshd not installed' }, () => {
  let fleet: Fleet
  let a: Sshd
  let b: Sshd
  let c: Sshd
  before(async () => {
    fleet = await startFleet(['127.0.0.1', '127.0.0.2', '127.0.0.3'])
    ;[a, b, c] = fleet.servers
  })
  after(async () => {
    await fleet?.stop()
  })

  const base = () => ({
    hosts: `${a.host}:${a.port}\n${b.host}:${b.port}`,
    username: a.username,
    'private-key': a.clientKey,
    'known-hosts': `${a.knownHosts}\n${b.knownHosts}`,
  })

  it('runs the command on every host, one group each, with outputs and summary', async () => {
    const run = await runAction({ ...base(), command: 'echo "hello from $SSH_CONNECTION"; echo to-stderr >&2' })
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const res = results(run)
    assert.deepEqual(
      res.map((r) => [r.host, r.port, r.username, r.status, r.exitCode]),
      [
        [a.host, a.port, a.username, 'success', 0],
        [b.host, b.port, b.username, 'success', 0],
      ],
    )
    for (const r of res) {
      assert.match(String(r.output), /hello from /)
      assert.match(String(r.output), /to-stderr/)
      assert.equal(r.signal, null)
      assert.equal(r.error, null)
      assert.equal(typeof r.durationMs, 'number')
    }
    assert.equal(run.outputs['succeeded'], `${a.host}:${a.port}\n${b.host}:${b.port}`)
    assert.equal(run.outputs['failed'], '')
    assert.equal(run.outputs['succeeded-count'], '2')
    assert.equal(run.outputs['failed-count'], '0')
    assert.equal(run.groups.length, 2)
    for (const g of run.groups) {
      assert.match(g.title, /success 127\.0\.0\.[12]:\d+: exit 0/)
      assert.ok(
        g.lines.some((l) => l.startsWith('hello from ')),
        g.lines.join('\n'),
      )
    }
    assert.match(run.summary, /All 2 hosts succeeded/)
    assert.match(run.summary, /octo\/deploy/)
    assert.match(run.summary, /<table>/)
    assert.equal(commandsOf(run, 'error').length, 0)
  })

  it('fails the step when failures exceed max-failures, and names the failed hosts', async () => {
    const run = await runAction({ ...base(), command: `case "$SSH_CONNECTION" in *"${b.host} ${b.port}") echo boom; exit 7;; esac; echo fine` })
    assert.equal(run.code, 1)
    const res = results(run)
    assert.equal(res[0].status, 'success')
    assert.equal(res[1].status, 'failed')
    assert.equal(res[1].exitCode, 7)
    assert.equal(run.outputs['failed'], `${b.host}:${b.port}`)
    assert.equal(run.outputs['failed-count'], '1')
    const errors = commandsOf(run, 'error')
    assert.ok(
      errors.some((e) => e.message.includes(`${b.host}:${b.port}`) && e.message.includes('exit code 7')),
      JSON.stringify(errors),
    )
    const final = errors[errors.length - 1]
    assert.match(final.message, /1 of 2 hosts failed, more than max-failures \(0\)/)
    assert.match(run.summary, /exit|failed/)
    // failures first in the table
    assert.ok(run.summary.indexOf(`${b.host}:${b.port}`) < run.summary.indexOf(`${a.host}:${a.port}</code>`))
  })

  it('tolerates failures within max-failures with a warning', async () => {
    const run = await runAction({ ...base(), command: `case "$SSH_CONNECTION" in *"${b.host} ${b.port}") exit 3;; esac`, 'max-failures': '1' })
    assert.equal(run.code, 0, run.stdout)
    assert.ok(commandsOf(run, 'warning').some((w) => /within max-failures \(1\)/.test(w.message)))
    const pct = await runAction({ ...base(), command: `case "$SSH_CONNECTION" in *"${b.host} ${b.port}") exit 3;; esac`, 'max-failures': '50%' })
    assert.equal(pct.code, 0)
    const strict = await runAction({ ...base(), command: `case "$SSH_CONNECTION" in *"${b.host} ${b.port}") exit 3;; esac`, 'max-failures': '49%' })
    assert.equal(strict.code, 1)
  })

  it('never lets host output act as a workflow command', async () => {
    const evil = [
      'echo "::error::from the host"',
      'echo "::add-mask::secret"',
      'echo "::endgroup::"',
      'echo "::set-output name=x::y"',
      'printf "partial line without newline"',
    ].join('; ')
    const run = await runAction({ ...base(), command: evil })
    assert.equal(run.code, 0, run.stdout)
    assert.equal(commandsOf(run, 'error').length, 0)
    assert.equal(commandsOf(run, 'add-mask').filter((c) => c.message === 'secret').length, 0)
    assert.equal(commandsOf(run, 'set-output').length, 0)
    // Every group closes: as many endgroup commands as groups.
    assert.equal(commandsOf(run, 'endgroup').length, run.groups.length)
    for (const g of run.groups) assert.ok(g.lines.includes('::error::from the host'), g.lines.join('\n'))
    // The text is there verbatim, and the stop-commands token differs between groups.
    const tokens = commandsOf(run, 'stop-commands').map((c) => c.message)
    assert.equal(new Set(tokens).size, tokens.length)
    for (const t of tokens) assert.match(t, /^[0-9a-f]{32}$/)
  })

  it('masks the key, passphrase and password before printing anything, and never prints them', async () => {
    const run = await runAction({ ...base(), command: 'true', password: 'hunter2-not-used' })
    const masks = commandsOf(run, 'add-mask').map((c) => c.message)
    assert.ok(masks.includes('hunter2-not-used'))
    const keyLines = a.clientKey.split('\n').filter((l) => l.trim() !== '')
    for (const l of keyLines) assert.ok(masks.includes(l.trim()), `key line not masked: ${l}`)
    // The first thing printed is a mask.
    assert.match(run.stdout, /^::add-mask::/)
    const afterMasks = run.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n')
    assert.ok(!afterMasks.includes('hunter2-not-used'))
    assert.ok(!afterMasks.includes(keyLines[1]))
  })

  it('refuses an unknown host key, naming the host, key type and fingerprint', async () => {
    const run = await runAction({ ...base(), 'known-hosts': a.knownHosts, command: 'true' })
    assert.equal(run.code, 1)
    const res = results(run)
    assert.equal(res[0].status, 'success')
    assert.equal(res[1].status, 'error')
    const err = String(res[1].error)
    assert.match(err, /^host key: /)
    assert.ok(err.includes(`${b.host}:${b.port}`), err)
    assert.ok(
      b.hostKeys.some((k) => err.includes(k.type) && err.includes(k.fingerprint)),
      err,
    )
    assert.equal(res[1].attempts, 1, 'host key failures are never retried')
  })

  it('warns once about @cert-authority lines and never trusts them', async () => {
    const caKey = a.hostKeys[0].publicLine
    const ca = `@cert-authority * ${caKey}\n@cert-authority *.example.com ${caKey}`
    const run = await runAction({ ...base(), 'known-hosts': `${ca}\n${a.knownHosts}`, command: 'true' })
    assert.equal(run.code, 1)
    const warnings = commandsOf(run, 'warning').filter((w) => /cert-authority/.test(w.message))
    assert.equal(warnings.length, 1, JSON.stringify(commandsOf(run, 'warning')))
    assert.deepEqual(
      results(run).map((r) => r.status),
      ['success', 'error'],
    )
    assert.match(String(results(run)[1].error), /^host key: .*not in known-hosts/)
  })

  it('accepts hosts pinned by fingerprint, with or without a host pattern', async () => {
    const fp = (s: Sshd) => s.hostKeys.map((k) => k.fingerprint)
    const run = await runAction({
      ...base(),
      'known-hosts': '',
      fingerprints: [...fp(a).map((f) => `${a.host}:${a.port} ${f}`), ...fp(b)].join('\n'),
      command: 'true',
    })
    assert.equal(run.code, 0, run.stdout)
    const wrongHost = await runAction({
      ...base(),
      'known-hosts': '',
      fingerprints: fp(a)
        .map((f) => `10.9.9.9 ${f}`)
        .join('\n'),
      hosts: `${a.host}:${a.port}`,
      command: 'true',
    })
    assert.equal(wrongHost.code, 1)
    assert.match(String(results(wrongHost)[0].error), /not in known-hosts or fingerprints/)
  })

  it('with strict-host-key-checking false, accepts any key and prints it for pinning', async () => {
    const run = await runAction({ ...base(), 'known-hosts': '', 'strict-host-key-checking': 'false', command: 'true' })
    assert.equal(run.code, 0, run.stdout)
    for (const s of [a, b]) {
      const line = run.stdout.split('\n').find((l) => l.startsWith(`${s.host}:${s.port} SHA256:`))
      assert.ok(line, run.stdout)
      assert.ok(s.hostKeys.some((k) => line.endsWith(k.fingerprint)))
    }
  })

  it('authenticates with an encrypted key and its passphrase, a PEM RSA key, a PuTTY key, and an SSH agent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'))
    try {
      const keyFile = join(dir, 'id')
      writeFileSync(keyFile, fleet.clientKey, { mode: 0o600 })
      chmodSync(keyFile, 0o600)
      execFileSync('ssh-keygen', ['-q', '-p', '-N', 'open sesame', '-f', keyFile])
      const encrypted = readFileSync(keyFile, 'utf8')
      const one = { ...base(), hosts: `${a.host}:${a.port}`, command: 'echo in' }
      const enc = await runAction({ ...one, 'private-key': encrypted, passphrase: 'open sesame' })
      assert.equal(enc.code, 0, enc.stdout)
      assert.ok(commandsOf(enc, 'add-mask').some((m) => m.message === 'open sesame'))

      if (havePuttygen()) {
        // PuTTY: the same key as an encrypted .ppk (version 3, Argon2), as puttygen writes it.
        const phraseFile = join(dir, 'phrase')
        writeFileSync(phraseFile, 'open sesame\n')
        execFileSync('puttygen', [keyFile, '--old-passphrase', phraseFile, '--new-passphrase', phraseFile, '-O', 'private', '-o', join(dir, 'id.ppk')])
        const ppk = readFileSync(join(dir, 'id.ppk'), 'utf8')
        assert.match(ppk, /^PuTTY-User-Key-File-3: ssh-ed25519/)
        const putty = await runAction({ ...one, 'private-key': ppk, passphrase: 'open sesame' })
        assert.equal(putty.code, 0, putty.stdout)
        const wrong = await runAction({ ...one, 'private-key': ppk, passphrase: 'not it' })
        assert.match(commandsOf(wrong, 'error')[0].message, /^Input "passphrase"/)
      }

      const rsaFile = join(dir, 'rsa')
      execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', rsaFile])
      const pem = readFileSync(rsaFile, 'utf8')
      assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----/)
      const rsaFleet = await startFleet(['127.0.0.9'], { authorizedKeys: [readFileSync(`${rsaFile}.pub`, 'utf8')] })
      try {
        const s = rsaFleet.servers[0]
        const rsa = await runAction({
          hosts: `${s.host}:${s.port}`,
          username: rsaFleet.username,
          'private-key': pem,
          'known-hosts': rsaFleet.knownHosts,
          command: 'echo rsa',
        })
        assert.equal(rsa.code, 0, rsa.stdout)
        assert.equal(results(rsa)[0].output, 'rsa')
      } finally {
        await rsaFleet.stop()
      }

      const sock = join(dir, 'agent.sock')
      const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' })
      try {
        assert.ok(await whenDirSettles(dir, () => existsSync(sock)), 'ssh-agent did not create its socket')
        execFileSync('ssh-add', ['-q', rsaFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' })
        execFileSync('ssh-keygen', ['-q', '-p', '-P', 'open sesame', '-N', '', '-f', keyFile])
        execFileSync('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' })
        const viaAgent = await runAction({ ...one, 'private-key': '' }, { env: { SSH_AUTH_SOCK: sock } })
        assert.equal(viaAgent.code, 0, viaAgent.stdout)
        assert.equal(results(viaAgent)[0].output, 'in')
      } finally {
        agent.kill()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('closes stdin at once, so a command that reads it gets end-of-file instead of hanging', async () => {
    const run = await runAction({ ...base(), hosts: `${a.host}:${a.port}`, command: 'cat; read line || echo "stdin closed"', 'command-timeout': '20s' })
    assert.equal(run.code, 0, run.stdout)
    assert.equal(results(run)[0].output, 'stdin closed')
  })

  it('passes env values byte for byte', async () => {
    const value = `it's "quoted" $HOME \`id\` \\ back; $(echo no) ünï`
    const run = await runAction({
      ...base(),
      hosts: `${a.host}:${a.port}`,
      env: `DEPLOY_VALUE=${value}\nEMPTY=`,
      // base64: the value itself is masked in every output, as every env value of 6 characters or more
      command: 'printf "%s|%s" "$DEPLOY_VALUE" "${EMPTY-unset}" | base64 -w0',
    })
    assert.equal(run.code, 0, run.stdout)
    assert.equal(Buffer.from(String(results(run)[0].output), 'base64').toString(), `${value}|`)
  })

  it('reports a command killed by a signal as failed with the signal', async () => {
    const run = await runAction({ ...base(), hosts: `${a.host}:${a.port}`, command: 'kill -KILL $$' })
    assert.equal(run.code, 1)
    const r = results(run)[0]
    assert.equal(r.status, 'failed')
    assert.equal(r.signal, 'SIGKILL')
    assert.match(run.groups[0].title, /failed .*: killed by SIGKILL/)
    assert.equal(r.exitCode, null)
  })

  it('stops further hosts once max-failures is exceeded (fail-fast), and runs all with fail-fast off', async () => {
    const hosts = `${a.host}:${a.port}\n${b.host}:${b.port}\n${c.host}:${c.port}`
    const run = await runAction({ ...base(), hosts, 'known-hosts': fleet.knownHosts, concurrency: '1', command: 'exit 1' })
    assert.equal(run.code, 1)
    assert.deepEqual(
      results(run).map((r) => r.status),
      ['failed', 'skipped', 'skipped'],
    )
    assert.equal(results(run)[1].attempts, 0)
    const all = await runAction({ ...base(), hosts, 'known-hosts': fleet.knownHosts, concurrency: '1', command: 'exit 1', 'fail-fast': 'false' })
    assert.deepEqual(
      results(all).map((r) => r.status),
      ['failed', 'failed', 'failed'],
    )
  })
})

describe('IPv6 hosts against real sshd on ::1', { skip: !haveSshd && 'sshd not installed' }, () => {
  it('connects to [::1]:port, names it in brackets, and matches its [::1]:port known_hosts entry', async () => {
    const fleet = await startFleet(['::1'])
    try {
      const [s] = fleet.servers
      const run = await runAction({
        hosts: `[::1]:${s.port}`,
        username: fleet.username,
        'private-key': fleet.clientKey,
        'known-hosts': fleet.knownHosts,
        command: 'echo v6',
      })
      assert.equal(run.code, 0, run.stdout)
      const r = results(run)[0]
      assert.deepEqual([r.host, r.port, r.status, r.output], ['::1', s.port, 'success', 'v6'])
      assert.equal(run.outputs['succeeded'], `[::1]:${s.port}`)
      assert.match(fleet.knownHosts, /^\[::1\]:\d+ /m)
    } finally {
      await fleet.stop()
    }
  })
})

describe('bad inputs fail before any host is contacted', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['no hosts', { hosts: ' # only a comment' }, /Input "hosts"/],
    ['port 0', { hosts: 'h:0' }, /Input "hosts".*port/],
    ['port 70000', { port: '70000' }, /Input "port".*1 .*65535|Input "port".*65535/],
    ['concurrency abc', { concurrency: 'abc' }, /Input "concurrency"/],
    ['concurrency 0', { concurrency: '0' }, /Input "concurrency"/],
    ['a duration like soon', { 'command-timeout': 'soon' }, /Input "command-timeout".*soon/],
    ['connect-timeout 0', { 'connect-timeout': '0' }, /Input "connect-timeout"/],
    ['max-failures lots', { 'max-failures': 'lots' }, /Input "max-failures"/],
    ['max-failures 150%', { 'max-failures': '150%' }, /Input "max-failures"/],
    ['an unparsable key', { 'private-key': 'not a key' }, /Input "private-key"/],
    ['no credentials', { 'private-key': '' }, /private-key.*password|no credentials/],
    ['no username', { username: '' }, /Input "username"/],
    ['a bad env line', { env: 'NOT A PAIR' }, /Input "env"/],
    ['no known-hosts with strict checking', { 'known-hosts': '' }, /Input "known-hosts".*ssh-keyscan/],
    ['fail-fast maybe', { 'fail-fast': 'maybe' }, /Input "fail-fast"/],
  ]
  const key = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBJCakZcicRgEZSLnwSQZb96m6SKA2hQZUzbvD/ZVafKQAAAJBxZauVcWWr
lQAAAAtzc2gtZWQyNTUxOQAAACBJCakZcicRgEZSLnwSQZb96m6SKA2hQZUzbvD/ZVafKQ
AAAEDfBeeYArX7zBtJqyfxmxhkcJY0dYLO4q2A/8YjR7LV4kkJqRlyJxGARlIufBJBlv3q
bpIoDaFBlTNu8P9lVp8pAAAAB3Jvb3RAdm0BAgMEBQY=
-----END OPENSSH PRIVATE KEY-----`
  // Validation fails first, so no host result (and no log group) ever appears.
  const good = {
    hosts: '127.0.0.1:1',
    username: 'deploy',
    command: 'true',
    'private-key': key,
    'known-hosts': '[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlwnxMEDBX3EHxm6OqOABC/JO6gixirKizea8JQ3Yqf',
  }
  for (const [name, override, pattern] of cases) {
    it(name, async () => {
      const run = await runAction({ ...good, ...override })
      assert.equal(run.code, 1, run.stdout)
      const errors = commandsOf(run, 'error')
      assert.equal(errors.length, 1, run.stdout)
      assert.match(errors[0].message, pattern)
      assert.doesNotMatch(run.stdout, /\n\s+at .*\.js:\d+/, 'no stack trace')
      assert.equal(run.groups.length, 0, 'no host was run')
      assert.equal(run.outputs['results'], undefined)
    })
  }

  it('a wrong passphrase names the passphrase input and never prints it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'key-'))
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'right-phrase', '-f', join(dir, 'k')])
    const encrypted = readFileSync(join(dir, 'k'), 'utf8')
    const run = await runAction({ ...good, 'private-key': encrypted, passphrase: 'wrong-phrase' })
    assert.equal(run.code, 1)
    const errors = commandsOf(run, 'error')
    assert.equal(errors.length, 1)
    assert.match(errors[0].message, /Input "passphrase"/)
    assert.ok(!errors[0].message.includes('wrong-phrase'))
    const none = await runAction({ ...good, 'private-key': encrypted })
    assert.match(commandsOf(none, 'error')[0].message, /Input "passphrase"/)
  })
})
