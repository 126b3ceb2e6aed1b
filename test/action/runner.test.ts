/**
 * What the action writes for the runner comes from @actions/core, patched by
 * patches/@actions+core+<version>.patch so that core loads its OIDC client (@actions/http-client,
 * undici) and its platform details (@actions/exec, @actions/io) when first called, not on import.
 * These tests guard that the patch changed nothing but load order: the same calls give the runner
 * the same bytes as core unpatched, on stdout and in the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
 * files; the exports are the same; only the patched copy leaves those packages unloaded; a patch
 * that stops applying fails the bundle; and the bundle holds one copy of core, which the chunks
 * loaded later (upload's) share.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, afterEach, before, describe, it } from 'node:test'
import * as core from '@actions/core'
import fc from 'fast-check'
import { node24, parseCommand, parseOutputFile, ROOT, runAction } from '../helpers/action.js'
import { closedPort } from '../helpers/net.js'
import { stdoutOf, stdoutOfAsync } from '../helpers/stdout.js'

type Core = typeof core

const CORE_DIR = join(ROOT, 'node_modules/@actions/core')
const PATCH = readdirSync(join(ROOT, 'patches')).find((f) => f.startsWith('@actions+core+'))
const PATCH_PACKAGE = join(ROOT, 'node_modules/patch-package/index.js')
const APPLY_PATCHES = join(ROOT, 'scripts/apply-patches.mjs')
const LOADED_MODULES = pathToFileURL(join(ROOT, 'build/test/helpers/loaded-modules.js')).href
/** An environment in which patch-package does not think it runs in CI (where it fails on a bad patch by itself). */
const NOT_CI = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' }

let dir: string
const apps: string[] = []
before(() => (dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-runner-'))))
after(() => {
  for (const d of [dir, ...apps]) rmSync(d, { recursive: true, force: true })
})

/**
 * A throwaway app holding a copy of the installed @actions/core with the patch reversed by
 * patch-package: core as published. Its dependencies are this project's (symlinked).
 */
function pristineApp(): string {
  assert.ok(PATCH, 'patches/ has no @actions/core patch')
  const app = mkdtempSync(join(tmpdir(), 'ssh-fanout-core-'))
  apps.push(app)
  writeFileSync(join(app, 'package.json'), '{ "name": "pristine-core", "private": true }\n')
  mkdirSync(join(app, 'node_modules/@actions'), { recursive: true })
  cpSync(CORE_DIR, join(app, 'node_modules/@actions/core'), { recursive: true })
  for (const dep of ['http-client', 'exec']) symlinkSync(join(ROOT, 'node_modules/@actions', dep), join(app, 'node_modules/@actions', dep))
  mkdirSync(join(app, 'patches'))
  copyFileSync(join(ROOT, 'patches', PATCH), join(app, 'patches', PATCH))
  const reversed = spawnSync(process.execPath, [PATCH_PACKAGE, '--reverse', '--error-on-fail'], { cwd: app, env: NOT_CI, encoding: 'utf8' })
  assert.equal(reversed.status, 0, `the installed @actions/core is not patched as patches/${PATCH} says: ${reversed.stdout}${reversed.stderr}`)
  return app
}

const coreFile = (app: string, file: string) => join(app, 'node_modules/@actions/core/lib', file)

let pristine: Core
let pristineDir: string
before(async () => {
  pristineDir = pristineApp()
  pristine = (await import(pathToFileURL(coreFile(pristineDir, 'core.js')).href)) as Core
})

/** Both copies' output for the same call, e.g. `same((lib) => lib.warning('x'))`: the patched one (what the action bundles) and core as published. */
function same(call: (lib: Core) => void): string {
  const ours = stdoutOf(() => call(core))
  const theirs = stdoutOf(() => call(pristine))
  assert.equal(ours, theirs)
  return ours
}

const HOSTILE = [
  '',
  'plain',
  '100% done',
  '%25 already escaped %0A',
  'a\nb',
  'a\r\nb\rc',
  'host:22, other:2222',
  '::error::injected',
  'title=x,file=y',
  '; ] ##[warning]legacy',
  'ünïcödé ✓ \u0000 \t',
  ' leading and trailing ',
]

const DELIMITER = /ghadelimiter_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

const savedEnv = { output: process.env.GITHUB_OUTPUT, summary: process.env.GITHUB_STEP_SUMMARY, debug: process.env.RUNNER_DEBUG }
afterEach(() => {
  for (const [name, value] of [
    ['GITHUB_OUTPUT', savedEnv.output],
    ['GITHUB_STEP_SUMMARY', savedEnv.summary],
    ['RUNNER_DEBUG', savedEnv.debug],
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  process.exitCode = 0
})

describe('the @actions/core patch', () => {
  it('applies to core as published and gives the files installed here; the bundle script applies it first', () => {
    const app = pristineApp()
    assert.match(readFileSync(coreFile(app, 'core.js'), 'utf8'), /^import \{ OidcClient \} from '\.\/oidc-utils\.js';$/m)
    const applied = spawnSync(process.execPath, [APPLY_PATCHES], { cwd: app, env: NOT_CI, encoding: 'utf8' })
    assert.equal(applied.status, 0, applied.stderr)
    for (const file of readdirSync(join(CORE_DIR, 'lib')))
      assert.equal(readFileSync(coreFile(app, file), 'utf8'), readFileSync(join(CORE_DIR, 'lib', file), 'utf8'), file)
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
    assert.match(scripts.bundle, /^node scripts\/apply-patches\.mjs && /)
  })

  it('a patch that no longer applies fails the bundle script (patch-package alone exits 0 outside CI)', () => {
    const app = pristineApp()
    // core as a later release might have it: the line the patch removes is written differently
    const file = coreFile(app, 'core.js')
    writeFileSync(file, readFileSync(file, 'utf8').replace("import { OidcClient } from './oidc-utils.js';", 'import { OidcClient } from "./oidc-utils.js";'))
    const before = readFileSync(file, 'utf8')
    const bare = spawnSync(process.execPath, [PATCH_PACKAGE], { cwd: app, env: NOT_CI, encoding: 'utf8' })
    assert.equal(bare.status, 0, 'patch-package now fails by itself outside CI')
    assert.match(bare.stdout, /Failed to apply patch for package @actions\/core/)
    const applied = spawnSync(process.execPath, [APPLY_PATCHES], { cwd: app, env: NOT_CI, encoding: 'utf8' })
    assert.equal(applied.status, 1)
    assert.match(applied.stderr, new RegExp(`cannot apply the following patch file:\\s+patches/${PATCH!.replace(/[.+]/g, '\\$&')}`))
    assert.match(applied.stderr, /apply-patches: patch-package failed \(exit 1\): a patch in patches\/ no longer applies/)
    assert.equal(readFileSync(file, 'utf8'), before, 'nothing was half-applied')
  })

  it('exports the same; getIDToken and platform.getDetails load what they need when called, and answer as before', async () => {
    assert.deepEqual(Object.keys(core).sort(), Object.keys(pristine).sort())
    assert.deepEqual(Object.keys(core.platform).sort(), Object.keys(pristine.platform).sort())
    const saved = { url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL, token: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN }
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    try {
      const ours = await core.getIDToken().catch((e: Error) => e.message)
      assert.equal(ours, await pristine.getIDToken().catch((e: Error) => e.message))
      assert.equal(ours, 'Error message: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable')
    } finally {
      if (saved.url !== undefined) process.env.ACTIONS_ID_TOKEN_REQUEST_URL = saved.url
      if (saved.token !== undefined) process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = saved.token
    }
    const details = (lib: Core) => lib.platform.getDetails().then(JSON.stringify, (e: Error) => `rejected: ${e.message}`)
    const ours = await details(core)
    assert.equal(ours, await details(pristine))
    assert.match(ours, /"platform":"linux"/)
  })

  it('importing it loads neither @actions/http-client, undici, @actions/exec nor @actions/io; core as published loads all four', () => {
    const loaded = (coreUrl: string) => {
      const list = join(dir, `loaded-${Math.random().toString(36).slice(2)}`)
      const r = spawnSync(node24(), ['--import', LOADED_MODULES, '--input-type=module', '-e', 'await import(process.argv[1])', coreUrl], {
        env: { ...NOT_CI, SSH_FANOUT_LOADED_MODULES: list },
        encoding: 'utf8',
      })
      assert.equal(r.status, 0, r.stderr)
      const urls = readFileSync(list, 'utf8').split('\n')
      return ['@actions/http-client', 'undici', '@actions/exec', '@actions/io'].filter((pkg) => urls.some((u) => u.includes(`/node_modules/${pkg}/`)))
    }
    assert.deepEqual(loaded(pathToFileURL(join(CORE_DIR, 'lib/core.js')).href), [])
    assert.deepEqual(loaded(pathToFileURL(coreFile(pristineDir, 'core.js')).href), ['@actions/http-client', 'undici', '@actions/exec', '@actions/io'])
  })
})

describe('workflow commands on stdout: the same as core unpatched', () => {
  it('setSecret and info, for awkward text', () => {
    for (const s of HOSTILE) {
      same((lib) => lib.setSecret(s))
      same((lib) => lib.info(s))
    }
    assert.equal(
      same((lib) => lib.setSecret('p%ss\nword')),
      '::add-mask::p%25ss%0Aword\n',
    )
  })

  it('error, warning and notice: message and title escaped (%, \\r, \\n; and : , in properties)', () => {
    for (const message of HOSTILE) {
      for (const title of [undefined, ...HOSTILE]) {
        same((lib) => lib.error(message, { title }))
        same((lib) => lib.warning(message, { title }))
        same((lib) => lib.notice(message, { title }))
      }
      same((lib) => lib.error(message))
      same((lib) => lib.warning(message, {}))
    }
    assert.equal(
      same((lib) => lib.error('50% of\r\nhosts: a, b', { title: 'ssh-fanout: web-1:22, 100%' })),
      '::error title=ssh-fanout%3A web-1%3A22%2C 100%25::50%25 of%0D%0Ahosts: a, b\n',
    )
    // core keeps the space after the name when a property was given but empty
    assert.equal(
      same((lib) => lib.warning('w', { title: '' })),
      '::warning ::w\n',
    )
  })

  it('what is printed reads back as the same command, message and title', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('error', 'warning', 'notice'),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary', minLength: 1 }).filter((t) => t.trim() === t),
        (name, message, title) => {
          const line = same((lib) => lib[name](message, { title }))
          assert.ok(line.endsWith('\n'))
          const parsed = parseCommand(line.slice(0, -1))
          assert.deepEqual(parsed, { command: name, properties: { title }, message })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('setFailed: one error annotation and exit code 1', () => {
    for (const message of HOSTILE) {
      process.exitCode = 0
      const ours = stdoutOf(() => core.setFailed(message))
      assert.equal(process.exitCode, 1)
      process.exitCode = 0
      const theirs = stdoutOf(() => pristine.setFailed(message))
      assert.equal(process.exitCode, 1)
      assert.equal(ours, theirs)
    }
    process.exitCode = 0
  })

  it('startGroup and endGroup (the host groups): the title escaped as command data', async () => {
    for (const s of HOSTILE) same((lib) => lib.startGroup(s))
    assert.equal(
      same((lib) => lib.startGroup('⛔ error web-1:22: 100%\nrefused')),
      '::group::⛔ error web-1:22: 100%25%0Arefused\n',
    )
    assert.equal(
      same((lib) => lib.endGroup()),
      '::endgroup::\n',
    )
    // group() around an async function: the same lines, and its result
    const grouped = (lib: Core) => stdoutOfAsync(() => lib.group('a:b', () => Promise.resolve(lib.info('inside')).then(() => 42)))
    const ours = await grouped(core)
    assert.deepEqual(ours, await grouped(pristine))
    assert.deepEqual(ours, { text: '::group::a:b\ninside\n::endgroup::\n', result: 42 })
  })

  it('isDebug and debug', () => {
    for (const value of [undefined, '0', '1', 'true']) {
      if (value === undefined) delete process.env.RUNNER_DEBUG
      else process.env.RUNNER_DEBUG = value
      assert.equal(core.isDebug(), pristine.isDebug())
    }
    process.env.RUNNER_DEBUG = '1'
    assert.equal(core.isDebug(), true)
    for (const s of HOSTILE) same((lib) => lib.debug(s))
  })
})

describe('setOutput: the same as core unpatched', () => {
  it('appends the same name<<delimiter blocks to GITHUB_OUTPUT (delimiter aside), multi-line and non-string values too', () => {
    const values: unknown[] = [...HOSTILE, 'line 1\nline 2\n', '\n', 42, { a: [1, '%\n'] }, null, undefined, true]
    const files = { ours: join(dir, 'out-ours'), theirs: join(dir, 'out-theirs') }
    writeFileSync(files.ours, '')
    writeFileSync(files.theirs, '')
    const printed = { ours: '', theirs: '' }
    values.forEach((value, i) => {
      process.env.GITHUB_OUTPUT = files.ours
      printed.ours += stdoutOf(() => core.setOutput(`out-${i}`, value))
      process.env.GITHUB_OUTPUT = files.theirs
      printed.theirs += stdoutOf(() => pristine.setOutput(`out-${i}`, value))
    })
    assert.equal(printed.ours, '')
    assert.equal(printed.theirs, '')
    const ours = readFileSync(files.ours, 'utf8')
    const theirs = readFileSync(files.theirs, 'utf8')
    assert.equal(ours.replace(DELIMITER, 'D'), theirs.replace(DELIMITER, 'D'))
    // a fresh delimiter every time
    const delimiters = ours.match(DELIMITER) ?? []
    assert.equal(delimiters.length, values.length * 2)
    assert.equal(new Set(delimiters).size, values.length)
    const read = parseOutputFile(ours)
    assert.equal(read['out-12'], 'line 1\nline 2\n')
    assert.equal(read['out-4'], 'a\nb')
    assert.equal(read['out-15'], '{"a":[1,"%\\n"]}')
  })

  it('falls back to ::set-output (after a blank line) without GITHUB_OUTPUT', () => {
    delete process.env.GITHUB_OUTPUT
    for (const value of HOSTILE) assert.equal(same((lib) => lib.setOutput('results', value)).split('\n')[0], '')
    assert.equal(
      same((lib) => lib.setOutput('a:b,c', 'x%\ny')),
      '\n::set-output name=a%3Ab%2Cc::x%25%0Ay\n',
    )
  })

  it('a missing GITHUB_OUTPUT file is an error', () => {
    process.env.GITHUB_OUTPUT = join(dir, 'nope')
    assert.throws(
      () => core.setOutput('a', 'b'),
      (err: Error) => {
        assert.throws(() => pristine.setOutput('a', 'b'), { message: err.message })
        return err.message === `Missing file at path: ${join(dir, 'nope')}`
      },
    )
  })
})

describe('summary: the same as core unpatched', () => {
  // Each copy's `summary` keeps the first file it wrote to: every test below writes each copy's to one file at most.
  const failure = (lib: Core) =>
    lib.summary.write().then(
      () => 'written',
      (e: Error) => e.message,
    )

  it('fails with the same message without GITHUB_STEP_SUMMARY', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    const ours = await failure(core)
    assert.equal(ours, await failure(pristine))
    assert.match(ours, /^Unable to find environment variable for \$GITHUB_STEP_SUMMARY\./)
  })

  it('fails with the same message for a summary file it cannot write', async (t) => {
    if (process.getuid?.() === 0) return t.skip('root can write any file')
    const locked = join(dir, 'locked')
    writeFileSync(locked, '')
    chmodSync(locked, 0o400)
    process.env.GITHUB_STEP_SUMMARY = locked
    const denied = await failure(core)
    assert.equal(denied, await failure(pristine))
    assert.equal(denied, `Unable to access summary file: '${locked}'. Check if the file has correct read/write permissions.`)
  })

  it('addRaw(text, true).write() appends the text and a line end', async () => {
    const files = { ours: join(dir, 'sum-ours'), theirs: join(dir, 'sum-theirs') }
    for (const f of Object.values(files)) writeFileSync(f, '# already there\n')
    for (const text of ['## ssh-fanout\n\n| a | b |\n|---|---|', '', 'ünïcödé %0A\r\n']) {
      process.env.GITHUB_STEP_SUMMARY = files.ours
      await core.summary.addRaw(text, true).write()
      process.env.GITHUB_STEP_SUMMARY = files.theirs
      await pristine.summary.addRaw(text, true).write()
    }
    assert.equal(readFileSync(files.ours, 'utf8'), readFileSync(files.theirs, 'utf8'))
    assert.match(readFileSync(files.ours, 'utf8'), /^# already there\n## ssh-fanout\n/)
  })
})

describe('the bundle: one copy of core, shared by the chunks loaded later', () => {
  /** Text that only @actions/core has (file-command.js, summary.js, command.js). */
  const CORE_MARKERS = ['ghadelimiter_', 'Unable to find environment variable for $', "'missing.command'"]
  const count = (text: string, s: string) => text.split(s).length - 1
  const distFile = (name: string) => readFileSync(join(ROOT, 'dist', name), 'utf8')

  it('dist/index.js holds core once, and not @actions/github (Octokit); no other file of dist/ holds core', () => {
    for (const marker of CORE_MARKERS) assert.equal(count(distFile('index.js'), marker), 1, marker)
    assert.doesNotMatch(distFile('index.js'), /node_modules\/@(octokit|actions\/github)\//)
    const chunks = readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.js') && f !== 'index.js')
    assert.ok(chunks.length > 0)
    for (const chunk of chunks) for (const marker of CORE_MARKERS) assert.equal(count(distFile(chunk), marker), 0, `${chunk}: ${marker}`)
  })

  it('the plain path loads dist/index.js alone; upload adds its chunks, which hold no copy of core', async () => {
    const port = await closedPort()
    const workspace = mkdtempSync(join(dir, 'ws-'))
    writeFileSync(join(workspace, 'app.txt'), 'app\n')
    const distLoaded = async (inputs: Record<string, string>) => {
      const list = join(dir, `loaded-${Math.random().toString(36).slice(2)}`)
      const r = await runAction(
        {
          hosts: `127.0.0.1:${port}`,
          username: 'u',
          password: 'pw',
          'known-hosts': `[127.0.0.1]:${port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlwnxMEDBX3EHxm6OqOABC/JO6gixirKizea8JQ3Yqf`,
          command: 'true',
          retries: '0',
          ...inputs,
        },
        { env: { NODE_OPTIONS: `--import=${LOADED_MODULES}`, SSH_FANOUT_LOADED_MODULES: list, GITHUB_WORKSPACE: workspace } },
      )
      assert.equal(r.outputs['failed-count'], '1', r.stdout + r.stderr)
      assert.match(r.stdout, /ECONNREFUSED/)
      const dist = pathToFileURL(join(ROOT, 'dist')).href + '/'
      return readFileSync(list, 'utf8')
        .split('\n')
        .filter((u) => u.startsWith(dist))
        .map((u) => u.slice(dist.length))
        .sort()
    }
    assert.deepEqual(await distLoaded({}), ['index.js'])
    const withUpload = await distLoaded({ upload: 'app.txt', 'upload-to': '/tmp/ssh-fanout-never-written' })
    assert.ok(withUpload.includes('index.js') && withUpload.length > 1, withUpload.join(', '))
    for (const chunk of withUpload.filter((f) => f !== 'index.js')) {
      for (const marker of CORE_MARKERS) assert.equal(count(distFile(chunk), marker), 0, `${chunk}: ${marker}`)
    }
  })
})
