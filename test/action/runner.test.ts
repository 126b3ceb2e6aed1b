/**
 * src/action/runner.ts against @actions/core (kept as a devDependency for this): the same calls must
 * give the runner the same bytes, on stdout and in the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import * as core from '@actions/core'
import fc from 'fast-check'
import * as runner from '../../src/action/runner.js'
import { parseCommand, parseOutputFile } from '../helpers/action.js'

/** What `fn` writes to stdout (synchronously), kept from the test runner's own stdout. */
function stdoutOf(fn: () => void): string {
  const write = process.stdout.write.bind(process.stdout)
  let text = ''
  process.stdout.write = (chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  }
  try {
    fn()
  } finally {
    process.stdout.write = write
  }
  return text
}

/** Both libraries' output for the same call, e.g. `same((lib) => lib.warning('x'))`. */
function same(call: (lib: typeof runner | typeof core) => void): string {
  const ours = stdoutOf(() => call(runner))
  const theirs = stdoutOf(() => call(core))
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

let dir: string
before(() => (dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-runner-'))))
after(() => rmSync(dir, { recursive: true, force: true }))

const savedEnv = { output: process.env.GITHUB_OUTPUT, summary: process.env.GITHUB_STEP_SUMMARY }
afterEach(() => {
  for (const [name, value] of [
    ['GITHUB_OUTPUT', savedEnv.output],
    ['GITHUB_STEP_SUMMARY', savedEnv.summary],
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  process.exitCode = 0
})

describe('workflow commands on stdout', () => {
  it('setSecret and info write what core writes, for awkward text', () => {
    for (const s of HOSTILE) {
      same((lib) => lib.setSecret(s))
      same((lib) => lib.info(s))
    }
    assert.equal(
      same((lib) => lib.setSecret('p%ss\nword')),
      '::add-mask::p%25ss%0Aword\n',
    )
  })

  it('error, warning and notice: message and title escaped as core escapes them (%, \\r, \\n; and : , in properties)', () => {
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

  it('setFailed: one error annotation and exit code 1, as core', () => {
    for (const message of HOSTILE) {
      process.exitCode = 0
      const ours = stdoutOf(() => runner.setFailed(message))
      assert.equal(process.exitCode, 1)
      process.exitCode = 0
      const theirs = stdoutOf(() => core.setFailed(message))
      assert.equal(process.exitCode, 1)
      assert.equal(ours, theirs)
    }
    process.exitCode = 0
  })

  it('escapeData is core’s (the host group titles use it)', () => {
    for (const s of HOSTILE)
      assert.equal(
        stdoutOf(() => runner.info(`::group::${runner.escapeData(s)}`)),
        stdoutOf(() => core.startGroup(s)),
      )
  })
})

describe('setOutput', () => {
  it('appends the same name<<delimiter blocks to GITHUB_OUTPUT (delimiter aside), multi-line and non-string values too', () => {
    const values: unknown[] = [...HOSTILE, 'line 1\nline 2\n', '\n', 42, { a: [1, '%\n'] }, null, undefined, true]
    const files = { ours: join(dir, 'out-ours'), theirs: join(dir, 'out-theirs') }
    writeFileSync(files.ours, '')
    writeFileSync(files.theirs, '')
    const printed = { ours: '', theirs: '' }
    values.forEach((value, i) => {
      process.env.GITHUB_OUTPUT = files.ours
      printed.ours += stdoutOf(() => runner.setOutput(`out-${i}`, value))
      process.env.GITHUB_OUTPUT = files.theirs
      printed.theirs += stdoutOf(() => core.setOutput(`out-${i}`, value))
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

  it('falls back to ::set-output (after a blank line) without GITHUB_OUTPUT, as core does', () => {
    delete process.env.GITHUB_OUTPUT
    for (const value of HOSTILE) assert.equal(same((lib) => lib.setOutput('results', value)).split('\n')[0], '')
    assert.equal(
      same((lib) => lib.setOutput('a:b,c', 'x%\ny')),
      '\n::set-output name=a%3Ab%2Cc::x%25%0Ay\n',
    )
  })

  it('a missing GITHUB_OUTPUT file is an error, as in core', () => {
    process.env.GITHUB_OUTPUT = join(dir, 'nope')
    assert.throws(
      () => runner.setOutput('a', 'b'),
      (err: Error) => {
        assert.throws(() => core.setOutput('a', 'b'), { message: err.message })
        return err.message === `Missing file at path: ${join(dir, 'nope')}`
      },
    )
  })

  it('refuses a name or value that contains the delimiter', () => {
    const d = 'ghadelimiter_fixed'
    assert.equal(runner.keyValueMessage('k', 'v\nw', d), `k<<${d}\nv\nw\n${d}`)
    assert.throws(() => runner.keyValueMessage('k', `x${d}y`, d), { message: `Unexpected input: value should not contain the delimiter "${d}"` })
    assert.throws(() => runner.keyValueMessage(`k${d}`, 'v', d), { message: `Unexpected input: name should not contain the delimiter "${d}"` })
  })
})

describe('appendSummary', () => {
  it('fails with core’s message without GITHUB_STEP_SUMMARY', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    const ours = await runner.appendSummary('x').catch((e: Error) => e.message)
    assert.equal(ours, await core.summary.write().catch((e: Error) => e.message))
    assert.match(String(ours), /GITHUB_STEP_SUMMARY/)
  })

  it('fails with core’s message for a summary file it cannot write', async (t) => {
    if (process.getuid?.() === 0) return t.skip('root can write any file')
    const locked = join(dir, 'locked')
    writeFileSync(locked, '')
    chmodSync(locked, 0o400)
    process.env.GITHUB_STEP_SUMMARY = locked
    const denied = await runner.appendSummary('x').catch((e: Error) => e.message)
    assert.equal(denied, `Unable to access summary file: '${locked}'. Check if the file has correct read/write permissions.`)
  })

  it('appends the text and a line end, as summary.addRaw(text, true).write()', async () => {
    const files = { ours: join(dir, 'sum-ours'), theirs: join(dir, 'sum-theirs') }
    for (const f of Object.values(files)) writeFileSync(f, '# already there\n')
    for (const text of ['## ssh-fanout\n\n| a | b |\n|---|---|', '', 'ünïcödé %0A\r\n']) {
      process.env.GITHUB_STEP_SUMMARY = files.ours
      await runner.appendSummary(text)
      process.env.GITHUB_STEP_SUMMARY = files.theirs
      await core.summary.addRaw(text, true).write()
    }
    assert.equal(readFileSync(files.ours, 'utf8'), readFileSync(files.theirs, 'utf8'))
    assert.match(readFileSync(files.ours, 'utf8'), /^# already there\n## ssh-fanout\n/)
  })
})
