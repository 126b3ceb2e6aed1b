/**
 * script-file and log-dir through the built bundle, run as the runner runs it, against real sshd
 * on loopback (the hosts' filesystem is this machine's, so what a host was left with is checked here).
 */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { results, runAction, type RunOptions } from '../helpers/action.js'
import { loginUser } from '../helpers/fleet.js'
import { closedPort } from '../helpers/net.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'
import { whenDirSettles } from '../helpers/wait.js'

/** The private directory a script was staged in, as the script printed it (`staged=<dir>/script (deleted)`: see probe). */
function scriptDirs(stdout: string): string[] {
  return [...stdout.matchAll(/^staged=(\/\S+)\/script \(deleted\)$/gm)].map((m) => m[1])
}

describe('script-file and log-dir against real sshd', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let s: Sshd
  /** A second host (127.0.0.2) that takes the first one's key. */
  let s2: Sshd
  let workspace: string
  before(async () => {
    s = await startSshd({ hostKeyTypes: ['ed25519'], user: await loginUser() })
    const publicKey = readFileSync(`${s.clientKeyPath}.pub`, 'utf8').trim()
    s2 = await startSshd({ host: '127.0.0.2', hostKeyTypes: ['ed25519'], user: await loginUser(), authorizedKeys: [publicKey] })
    workspace = mkdtempSync(join(tmpdir(), 'ssh-fanout-ws-'))
    chmodSync(workspace, 0o755)
  })
  after(async () => {
    await s?.stop()
    await s2?.stop()
    if (workspace) rmSync(workspace, { recursive: true, force: true })
  })

  const base = (hosts = `${s.host}:${s.port}`) => ({
    hosts,
    username: s.username,
    'private-key': s.clientKey,
    'known-hosts': s.knownHosts + s2.knownHosts,
    command: '',
  })
  const both = () => `${s.host}:${s.port}, ${s2.host}:${s2.port}`
  const run = (inputs: Record<string, string>, opts: RunOptions = {}) => runAction(inputs, { ...opts, env: { GITHUB_WORKSPACE: workspace, ...opts.env } })
  const script = (name: string, text: string) => {
    writeFileSync(join(workspace, name), text)
    return name
  }
  /**
   * Prints the file the script runs from (it runs from descriptor 9, its directory already removed:
   * the link reads `<dir>/script (deleted)`) and that file's mode, then runs `body`.
   */
  const probe = (shebang: string, body: string) => `${shebang}\necho "staged=$(readlink /dev/fd/9)"\necho "modes=$(stat -L -c %a "$0")"\n${body}\n`

  it('runs a #!/bin/bash script-file under bash from a private 0700 file, with env, and removes it before it runs', async () => {
    const file = script('deploy.sh', probe('#!/bin/bash', 'echo "shell=${BASH_VERSION:+bash}"; echo "greeting=$GREETING"; [[ -n "$BASH_VERSION" ]] && exit 0'))
    const r = await run({ ...base(both()), 'script-file': file, env: 'GREETING=hello there' })
    assert.equal(r.code, 0, r.stdout)
    assert.deepEqual(
      results(r).map((e) => e.status),
      ['success', 'success'],
    )
    assert.match(r.stdout, /^shell=bash$/m)
    assert.match(r.stdout, /^greeting=hello there$/m)
    assert.match(r.stdout, /^modes=700$/m)
    const dirs = scriptDirs(r.stdout)
    assert.equal(dirs.length, 2)
    assert.notEqual(dirs[0], dirs[1], 'one private directory per connection')
    for (const d of dirs) assert.ok(!existsSync(d), `${d} was left on the host`)
  })

  it('runs a script without #! under sh, with stdin closed', async () => {
    const file = script('plain.sh', probe('', 'echo "bash=${BASH_VERSION:-none}"\ncat\necho "stdin-closed=$?"\nexit 3'))
    const r = await run({ ...base(), 'script-file': file })
    assert.equal(r.code, 1, r.stdout)
    const [e] = results(r)
    assert.deepEqual([e.status, e.exitCode], ['failed', 3])
    assert.match(r.stdout, /^bash=none$/m)
    assert.match(r.stdout, /^stdin-closed=0$/m)
    for (const d of scriptDirs(r.stdout)) assert.ok(!existsSync(d), `${d} was left after a failure`)
  })

  it('removes the script after a timeout', async () => {
    const file = script('slow.sh', probe('#!/bin/sh', 'sleep 60'))
    const r = await run({ ...base(), 'script-file': file, 'command-timeout': '2s' })
    const [e] = results(r)
    assert.equal(e.status, 'timeout', r.stdout)
    assert.match(String(e.error), /^command timed out after 2 s during the command/)
    const dirs = scriptDirs(r.stdout)
    assert.equal(dirs.length, 1)
    assert.ok(!existsSync(dirs[0]), `${dirs[0]} was left after a timeout`)
  })

  it('removes the script after the job is cancelled, and log-dir keeps every host and results.json', async () => {
    // The host's output shows only once it finished: the script says it started through a file.
    const markers = mkdtempSync(join(tmpdir(), 'ssh-fanout-started-'))
    chmodSync(markers, 0o777)
    const marker = join(markers, 'started')
    const file = script('hang.sh', probe('#!/bin/sh', `echo started-hanging; touch ${marker}; sleep 60`))
    const logs = join(workspace, 'logs-cancel')
    const started = whenDirSettles(markers, () => existsSync(marker))
    const r = await run({ ...base(both()), 'script-file': file, 'log-dir': 'logs-cancel', concurrency: '1' }, { interruptWhen: started }).finally(() =>
      rmSync(markers, { recursive: true, force: true }),
    )
    assert.equal(await started, true, 'the script started')
    assert.notEqual(r.code, 0)
    const entries = results(r)
    assert.deepEqual(
      entries.map((e) => e.status),
      ['cancelled', 'skipped'],
    )
    for (const d of scriptDirs(r.stdout)) assert.ok(!existsSync(d), `${d} was left after a cancel`)
    const files = readdirSync(logs).sort()
    const [first, second] = [`${s.host}_${s.port}.log`, `${s2.host}_${s2.port}.log`]
    assert.deepEqual(files, [first, second, 'results.json', 'run.json'].sort())
    assert.match(readFileSync(join(logs, first), 'utf8'), /started-hanging/)
    assert.equal(readFileSync(join(logs, second), 'utf8'), '', 'a skipped host has an empty log')
    const json = JSON.parse(readFileSync(join(logs, 'results.json'), 'utf8')) as Array<Record<string, unknown>>
    assert.deepEqual(
      json.map((e) => e.status),
      ['cancelled', 'skipped'],
    )
  })

  it('log-dir holds one file per host after a failing run (output as logged, secrets masked), and touches nothing else', async () => {
    const logs = join(workspace, 'logs-fail')
    rmSync(logs, { recursive: true, force: true })
    const refused = await closedPort()
    const hosts = `${s.host}:${s.port}\n[::1]:${refused}\n127.0.0.1:${refused}`
    mkdirSync(logs)
    writeFileSync(join(logs, 'keep-me.txt'), 'untouched')
    writeFileSync(join(logs, 'results.json'), 'old')
    const secret = 'hunter2-very-secret'
    const r = await run({
      ...base(hosts),
      password: secret,
      command: `echo "line one"; echo "${secret}"; echo "to stderr" >&2; exit 4`,
      'log-dir': 'logs-fail',
      'max-failures': '5',
      retries: '0',
    })
    assert.equal(r.code, 0, r.stdout)
    const files = readdirSync(logs).sort()
    assert.deepEqual(files, [`127.0.0.1_${refused}.log`, `127.0.0.1_${s.port}.log`, `___1__${refused}.log`, 'keep-me.txt', 'results.json', 'run.json'].sort())
    assert.equal(readFileSync(join(logs, 'keep-me.txt'), 'utf8'), 'untouched')
    const log = readFileSync(join(logs, `127.0.0.1_${s.port}.log`), 'utf8')
    assert.match(log, /^line one$/m)
    assert.match(log, /^to stderr$/m)
    assert.ok(!log.includes(secret), log)
    assert.match(log, /^\*\*\*$/m)
    const json = JSON.parse(readFileSync(join(logs, 'results.json'), 'utf8')) as Array<Record<string, unknown>>
    assert.deepEqual(
      json.map((e) => [e.host, e.status]),
      [
        ['127.0.0.1', 'failed'],
        ['::1', 'error'],
        ['127.0.0.1', 'error'],
      ],
    )
    assert.ok(r.stdout.includes(`ssh-fanout: log-dir: 5 files (a log per host, results.json and run.json) written to ${logs}`), r.stdout)
  })

  it('refuses command and script-file together, a missing script-file, and an unusable log-dir, before any host', async () => {
    const both = await run({ ...base(), command: 'true', 'script-file': script('x.sh', 'true\n') })
    assert.equal(both.code, 1)
    assert.match(both.stdout, /::error::Input "script-file": and command are both set/)
    const missing = await run({ ...base(), 'script-file': 'scripts/nope.sh' })
    assert.match(missing.stdout, /::error::Input "script-file": "scripts\/nope.sh" does not exist \(relative to the workspace/)
    const neither = await run({ ...base() })
    assert.match(neither.stdout, /::error::Input "command": is required/)
    writeFileSync(join(workspace, 'a-file'), '')
    const badDir = await run({ ...base(), command: 'true', 'log-dir': 'a-file/logs' })
    assert.match(badDir.stdout, /::error::Input "log-dir": .*cannot be created/)
    for (const r of [both, missing, neither, badDir]) {
      assert.equal(r.code, 1)
      assert.ok(!r.stdout.includes('ssh-fanout: running on'), r.stdout)
      assert.equal(r.outputs.results, undefined)
    }
  })
})
