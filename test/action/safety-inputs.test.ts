/** The safe-rollout inputs (preflight, check-command and its timing, rollback-command) as getSettings reads them. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULTS, getSettings, InputError, type InputReader, type Settings } from '../../src/action/inputs.js'

/** A syntactically valid fingerprint (32-byte digest, unpadded base64). */
const FINGERPRINT = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`

/** The smallest valid set of inputs (a password, so no key has to be generated). */
const BASE: Record<string, string> = { hosts: 'web1', command: 'deploy', username: 'deploy', password: 'pw', fingerprints: FINGERPRINT }

/** With env A=1 and B=two words: what envPrefix gives, spelled out so a change to the prefix shows here. */
const ENV = 'A=1\nB=two words'
const PREFIX = "A='1'\nB='two words'\nexport A B\n"

const reader =
  (inputs: Record<string, string>): InputReader =>
  (name) =>
    inputs[name] ?? ''

function safety(overrides: Record<string, string> = {}): Settings['safety'] {
  return getSettings(reader({ ...BASE, ...overrides }), {}).safety
}

/** Asserts getSettings throws an InputError naming `input`; returns its message. */
function rejects(overrides: Record<string, string>, input: string): string {
  let caught: unknown
  try {
    safety(overrides)
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`)
  assert.equal(caught.input, input, `wrong input named in: ${caught.message}`)
  assert.ok(caught.message.startsWith(`Input "${input}": `), caught.message)
  return caught.message
}

/** No command set, one set: the bad value must be refused either way. */
const WITHOUT_AND_WITH = (command: string): Array<Record<string, string>> => [{}, { [command]: 'true' }]

describe('safety inputs: defaults', () => {
  it('all three parts are off by default', () => {
    assert.deepEqual(safety(), { preflight: null, check: null, rollback: null })
  })

  it('DEFAULTS holds the six inputs with the action.yml defaults', () => {
    // inputs.test.ts checks DEFAULTS against action.yml both ways; this pins the values themselves.
    assert.equal(DEFAULTS['preflight'], 'false')
    assert.equal(DEFAULTS['check-interval'], '5s')
    assert.equal(DEFAULTS['check-timeout'], '1m')
    for (const name of ['preflight-command', 'check-command', 'rollback-command']) assert.equal(DEFAULTS[name], '', name)
  })

  it('check-command alone takes check-interval 5s and check-timeout 1m', () => {
    assert.deepEqual(safety({ 'check-command': 'curl -fsS http://127.0.0.1:8080/up' }).check, {
      command: 'curl -fsS http://127.0.0.1:8080/up',
      intervalMs: 5_000,
      timeoutMs: 60_000,
    })
  })

  it('whitespace-only values read as unset: commands off, durations and preflight at their defaults', () => {
    const blank = ' \n\t'
    const s = safety({
      preflight: blank,
      'preflight-command': blank,
      'check-command': blank,
      'check-interval': blank,
      'check-timeout': blank,
      'rollback-command': blank,
    })
    assert.deepEqual(s, { preflight: null, check: null, rollback: null })
    assert.deepEqual(safety({ 'check-command': 'c', 'check-interval': blank, 'check-timeout': blank }).check, {
      command: 'c',
      intervalMs: 5_000,
      timeoutMs: 60_000,
    })
  })
})

describe('safety inputs: preflight', () => {
  it('preflight: true without a command logs in only', () => {
    for (const value of ['true', 'True', 'TRUE', ' true\n']) assert.deepEqual(safety({ preflight: value }).preflight, { command: null }, value)
  })

  it('preflight: false is off', () => {
    for (const value of ['false', 'False', 'FALSE']) assert.equal(safety({ preflight: value }).preflight, null, value)
  })

  it('preflight-command implies preflight: true, also when preflight says false', () => {
    const check = 'test -w /srv/app'
    assert.deepEqual(safety({ 'preflight-command': check }).preflight, { command: check })
    assert.deepEqual(safety({ preflight: 'false', 'preflight-command': check }).preflight, { command: check })
    assert.deepEqual(safety({ preflight: 'true', 'preflight-command': check }).preflight, { command: check })
  })

  it('the preflight command is kept as given (the engine adds each host’s env prefix)', () => {
    assert.deepEqual(safety({ env: ENV, 'preflight-command': 'test -n "$B"' }).preflight, { command: 'test -n "$B"' })
    // Log in only: there is no command.
    assert.deepEqual(safety({ env: ENV, preflight: 'true' }).preflight, { command: null })
  })

  it('a whitespace-only preflight-command does not turn preflight on', () => {
    assert.equal(safety({ 'preflight-command': '  \n ' }).preflight, null)
    assert.deepEqual(safety({ preflight: 'true', 'preflight-command': '  \n ' }).preflight, { command: null })
  })

  it('preflight must be a boolean, also when preflight-command is set', () => {
    for (const extra of WITHOUT_AND_WITH('preflight-command')) {
      for (const value of ['maybe', 'yes', '1', 'on']) {
        const message = rejects({ ...extra, preflight: value }, 'preflight')
        assert.equal(message, `Input "preflight": "${value}" is not a boolean; use true or false (True, TRUE, False and FALSE are also accepted)`)
      }
    }
  })
})

describe('safety inputs: check-command, check-interval, check-timeout', () => {
  it('the check command is kept as given, with the timing given', () => {
    assert.deepEqual(safety({ env: ENV, 'check-command': 'curl -fsS "$B"', 'check-interval': '500ms', 'check-timeout': '1m30s' }).check, {
      command: 'curl -fsS "$B"',
      intervalMs: 500,
      timeoutMs: 90_000,
    })
  })

  it('durations are read as command-timeout reads them: bare seconds, units, decimals', () => {
    const timing = (interval: string, timeout: string) => {
      const check = safety({ 'check-command': 'c', 'check-interval': interval, 'check-timeout': timeout }).check
      return check && [check.intervalMs, check.timeoutMs]
    }
    assert.deepEqual(timing('2', '30'), [2_000, 30_000])
    assert.deepEqual(timing('1.5s', '2M'), [1_500, 120_000])
    assert.deepEqual(timing('1h', '596h'), [3_600_000, 596 * 3_600_000])
  })

  it('check-timeout equal to check-interval is accepted (one attempt)', () => {
    assert.deepEqual(safety({ 'check-command': 'c', 'check-interval': '10s', 'check-timeout': '10' }).check, {
      command: 'c',
      intervalMs: 10_000,
      timeoutMs: 10_000,
    })
  })

  it('check-interval 0 is refused, with or without check-command', () => {
    for (const extra of WITHOUT_AND_WITH('check-command')) {
      for (const value of ['0', '0s', '0ms', '0m0s']) {
        assert.equal(rejects({ ...extra, 'check-interval': value }, 'check-interval'), 'Input "check-interval": must be more than 0 (e.g. 5s)')
      }
    }
  })

  it('check-timeout 0 is refused, with or without check-command', () => {
    for (const extra of WITHOUT_AND_WITH('check-command')) {
      assert.equal(rejects({ ...extra, 'check-timeout': '0' }, 'check-timeout'), 'Input "check-timeout": must be more than 0 (e.g. 1m)')
    }
  })

  it('check-timeout shorter than check-interval names check-timeout, says both values and what to do', () => {
    for (const extra of WITHOUT_AND_WITH('check-command')) {
      const message = rejects({ ...extra, 'check-timeout': '5s', 'check-interval': '10s' }, 'check-timeout')
      assert.equal(
        message,
        'Input "check-timeout": "5s" is shorter than check-interval ("10s"); give a check-timeout of at least "10s" ' +
          '(how long a failing check keeps being retried), or a shorter check-interval',
      )
    }
    // Against the default interval (5s), too.
    assert.match(rejects({ 'check-timeout': '2s' }, 'check-timeout'), /"2s" is shorter than check-interval \("5s"\)/)
    // Compared in milliseconds, not as text.
    assert.match(rejects({ 'check-timeout': '59s', 'check-interval': '1m' }, 'check-timeout'), /"59s" is shorter than check-interval \("1m"\)/)
  })

  it('a bad check-interval is named before check-timeout is compared to it', () => {
    rejects({ 'check-interval': 'often', 'check-timeout': '1s' }, 'check-interval')
  })

  it('durations that are not durations or too long, for both inputs, with or without check-command', () => {
    for (const input of ['check-interval', 'check-timeout']) {
      for (const extra of WITHOUT_AND_WITH('check-command')) {
        assert.match(rejects({ ...extra, [input]: 'soon' }, input), /"soon" is not a duration; use seconds \(45\) or a number with units/)
        assert.match(rejects({ ...extra, [input]: '-5s' }, input), /"-5s" is not a duration/)
        assert.match(rejects({ ...extra, [input]: '600h' }, input), /"600h" is too long a duration; give at most 24 days \(596h\)$/)
      }
    }
  })

  it('a whitespace-only check-command leaves the check off (its timing still validated)', () => {
    assert.equal(safety({ 'check-command': ' \n' }).check, null)
    rejects({ 'check-command': ' \n', 'check-interval': '0' }, 'check-interval')
  })
})

describe('safety inputs: rollback-command', () => {
  it('keeps the rollback command as given (the engine adds the env prefix and its own variables)', () => {
    assert.deepEqual(safety({ env: ENV, 'rollback-command': 'ln -sfn "$PREVIOUS" current' }).rollback, { command: 'ln -sfn "$PREVIOUS" current' })
  })

  it('a whitespace-only rollback-command is unset', () => {
    assert.equal(safety({ 'rollback-command': '\t \n' }).rollback, null)
  })
})

describe('safety inputs: commands are read as command is', () => {
  it('a multi-line script is kept whole, trimmed at its ends only (as command is)', () => {
    const script = 'set -e\n  cd /srv/app  \n\n  test -x ./bin/up\n'
    const s = getSettings(reader({ ...BASE, command: script, 'preflight-command': script, 'check-command': script, 'rollback-command': script }), {})
    const kept = script.trim()
    assert.equal(s.command, kept)
    assert.deepEqual(s.safety.preflight, { command: kept })
    assert.equal(s.safety.check?.command, kept)
    assert.equal(s.safety.rollback?.command, kept)
  })

  it('with script-file instead of command, the three commands are still read, beside the env', () => {
    const workspace = mkdtempSync(join(tmpdir(), 'safety-inputs-ws-'))
    try {
      writeFileSync(join(workspace, 'deploy.sh'), '#!/bin/sh\ntrue\n')
      const inputs = { ...BASE, command: '', 'script-file': 'deploy.sh', env: ENV, 'preflight-command': 'p', 'check-command': 'c', 'rollback-command': 'r' }
      const s = getSettings(reader(inputs), { GITHUB_WORKSPACE: workspace })
      assert.equal(s.script?.path, 'deploy.sh')
      assert.deepEqual(s.safety, {
        preflight: { command: 'p' },
        check: { command: 'c', intervalMs: 5_000, timeoutMs: 60_000 },
        rollback: { command: 'r' },
      })
      assert.equal(s.envPrefix, PREFIX)
    } finally {
      rmSync(workspace, { recursive: true, force: true })
    }
  })

  it('an oversized bad value is quoted short in the error, for every new scalar input', () => {
    const huge = 'x'.repeat(1_000_000)
    for (const input of ['preflight', 'check-interval', 'check-timeout']) {
      const message = rejects({ [input]: huge }, input)
      assert.ok(message.includes(`(${huge.length} characters)`), message.slice(0, 200))
      assert.ok(message.length < 500, `${input}: ${message.length} characters`)
    }
  })
})
