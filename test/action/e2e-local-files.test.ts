/**
 * The rule for local files on the runner, through the built action: a committed symlink
 * (script-file, upload, log-dir) never makes the action read or write outside the workspace,
 * and every refusal is an input error before any host is contacted (an in-process host counts
 * the connections it got).
 */
import assert from 'node:assert/strict'
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { results, runAction, type ActionRun } from '../helpers/action.js'
import { startFakeServer, type FakeServer } from '../helpers/ssh2-server.js'

describe('local files on the runner: symlinks and the workspace (built action)', () => {
  let server: FakeServer
  let root: string
  let ws: string
  /** What a committed symlink points at: must never be read or written. */
  let outside: string
  const GITCONFIG = '[user]\n\tname = Jane Runner\n'
  const PASSWORD = 'pw-never-sent-anywhere'

  before(async () => {
    server = await startFakeServer({ auth: { password: PASSWORD } })
    root = realpathSync(mkdtempSync(join(tmpdir(), 'ssh-fanout-e2e-local-')))
    ws = join(root, 'ws')
    outside = join(root, 'home')
    mkdirSync(ws)
    mkdirSync(outside)
    writeFileSync(join(outside, '.gitconfig'), GITCONFIG)
    writeFileSync(join(outside, 'creds.json'), '{"token":"elsewhere"}')
    writeFileSync(join(outside, 'tool.sh'), 'echo from outside\n')
  })
  after(async () => {
    await server?.close()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  const base = () => ({
    hosts: `${server.host}:${server.port}`,
    username: 'deploy',
    password: PASSWORD,
    'known-hosts': server.hostKeyPublic.knownHostsLine,
    command: 'echo hi',
  })
  const run = (inputs: Record<string, string>) => runAction({ ...base(), ...inputs }, { env: { GITHUB_WORKSPACE: ws } })

  /** The step failed with an input error naming `input`, before any host was contacted. */
  const refusedBeforeAnyHost = (r: ActionRun, input: string, message: RegExp, connectionsBefore: number) => {
    assert.equal(r.code, 1, r.stdout)
    const error = r.stdout.split('\n').find((l) => l.startsWith('::error::'))
    assert.ok(error?.startsWith(`::error::Input "${input}": `), r.stdout)
    assert.match(error ?? '', message)
    assert.ok(!r.stdout.includes('ssh-fanout: running on'), r.stdout)
    assert.equal(r.outputs.results, undefined)
    assert.equal(server.connections, connectionsBefore, 'a host was contacted')
  }

  it('log-dir replaces a committed symlink (or results.json link) of a log name instead of writing through it', async () => {
    const logs = join(ws, 'deploy-logs')
    mkdirSync(logs)
    const logName = `${server.host}_${server.port}.log`
    symlinkSync(join(outside, '.gitconfig'), join(logs, logName))
    symlinkSync(join(outside, 'creds.json'), join(logs, 'results.json'))
    const r = await run({ 'log-dir': 'deploy-logs' })
    assert.equal(r.code, 0, r.stdout)
    assert.equal(readFileSync(join(outside, '.gitconfig'), 'utf8'), GITCONFIG, 'host output was written through the symlink')
    assert.equal(readFileSync(join(outside, 'creds.json'), 'utf8'), '{"token":"elsewhere"}')
    assert.ok(lstatSync(join(logs, logName)).isFile())
    assert.match(readFileSync(join(logs, logName), 'utf8'), /^ran: echo hi$/m)
    assert.ok(lstatSync(join(logs, 'results.json')).isFile())
    assert.equal((JSON.parse(readFileSync(join(logs, 'results.json'), 'utf8')) as unknown[]).length, 1)
    assert.match(r.stdout, /ssh-fanout: log-dir: 3 files \(a log per host, results\.json and run\.json\) written to /)
  })

  it('refuses a log-dir that is a symlink, passes through one, or lies outside the workspace, before any host', async () => {
    symlinkSync(outside, join(ws, 'linked-logs'))
    symlinkSync(outside, join(ws, 'via'))
    const before = server.connections
    const cases: Array<[string, RegExp]> = [
      ['linked-logs', /"linked-logs" is refused: .*linked-logs is a symbolic link, which is not followed; give a directory inside the workspace/],
      ['via/logs', /"via\/logs" is refused: .*via is a symbolic link, which is not followed/],
      [join(ws, 'via', 'logs'), /is refused: .*via is a symbolic link/],
      ['../escape', /"\.\.\/escape" is refused: .*escape is outside the workspace .*, or an absolute path outside the workspace$/],
    ]
    for (const [logDir, message] of cases) {
      const r = await run({ 'log-dir': logDir })
      refusedBeforeAnyHost(r, 'log-dir', message, before)
    }
    assert.deepEqual(readdirSync(outside).sort(), ['.gitconfig', 'creds.json', 'tool.sh'])
    assert.deepEqual(readdirSync(root).sort(), ['home', 'ws'])
  })

  it('refuses a script-file that is a symlink to /proc/self/environ or out of the workspace, before any host', async () => {
    symlinkSync('/proc/self/environ', join(ws, 'deploy.sh'))
    symlinkSync(join(outside, 'tool.sh'), join(ws, 'tool.sh'))
    mkdirSync(join(ws, 'scripts-real'))
    symlinkSync(outside, join(ws, 'scripts'))
    const before = server.connections
    const commands = server.commands.length
    const cases: Array<[string, RegExp]> = [
      [
        'deploy.sh',
        /"deploy\.sh" is refused: .*deploy\.sh leads through a symbolic link to \/proc\/\d+\/environ, outside the workspace .*; give the path of a script in the repository/,
      ],
      ['tool.sh', /"tool\.sh" is refused: .*tool\.sh leads through a symbolic link to .*home\/tool\.sh, outside the workspace/],
      ['scripts/tool.sh', /"scripts\/tool\.sh" is refused: .*outside the workspace/],
    ]
    for (const [file, message] of cases) {
      const r = await run({ command: '', 'script-file': file })
      refusedBeforeAnyHost(r, 'script-file', message, before)
      const printed = r.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n')
      assert.ok(!printed.includes(PASSWORD) && !printed.includes('INPUT_PASSWORD'), 'the environment was printed')
    }
    assert.equal(server.commands.length, commands, 'a command reached the host')
  })

  it('refuses an upload through a symlinked parent directory (out -> elsewhere), before any host', async () => {
    symlinkSync(outside, join(ws, 'out'))
    writeFileSync(join(ws, 'app.js'), 'app')
    const before = server.connections
    const r = await run({ upload: 'app.js\nout/creds.json', 'upload-to': '/srv/app' })
    refusedBeforeAnyHost(
      r,
      'upload',
      /upload pattern "out\/creds\.json" matches .*out\/creds\.json really lies at .*home\/creds\.json, through a symbolic link, outside the workspace/,
      before,
    )
  })

  it('an upload that packs nothing is an input error naming the pattern: an empty dist/, dist/** on it, maps/** with !maps/*.map', async () => {
    mkdirSync(join(ws, 'dist'))
    mkdirSync(join(ws, 'maps'))
    writeFileSync(join(ws, 'maps', 'app.js.map'), 'map')
    writeFileSync(join(ws, 'top.txt'), 'top')
    const before = server.connections
    const cases: Array<[string, RegExp]> = [
      ['dist/', /upload pattern "dist\/" leaves nothing to send in .*dist \(the directory is empty/],
      ['top.txt\ndist/**', /upload pattern "dist\/\*\*" leaves nothing to send/],
      ['top.txt\nmaps/**\n!maps/*.map', /upload pattern "maps\/\*\*" leaves nothing to send in .*maps once the ! lines after it are applied/],
      ['dist', /upload "dist" sends no regular file/],
    ]
    for (const [upload, message] of cases) refusedBeforeAnyHost(await run({ upload, 'upload-to': '/srv/app' }), 'upload', message, before)
  })

  it('an upload keeps directories named ..well-known and ..data under dir/', async () => {
    mkdirSync(join(ws, 'site', '..well-known'), { recursive: true })
    mkdirSync(join(ws, 'site', '..data'))
    writeFileSync(join(ws, 'site', '..well-known', 'security.txt'), 'contact')
    writeFileSync(join(ws, 'site', '..data', 'config'), 'cfg')
    writeFileSync(join(ws, 'site', 'index.html'), 'index')
    // the in-process host has no tar: the count in the log is what was packed
    const r = await run({ upload: 'site/', 'upload-to': '/srv/site' })
    assert.match(r.stdout, /ssh-fanout: upload: 3 files \(5 entries, /)
    assert.equal(results(r).length, 1)
  })
})
