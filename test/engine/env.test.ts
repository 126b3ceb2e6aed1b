import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import fc from 'fast-check'
import { envPrefix, parseEnv, shellQuote, type EnvVar } from '../../src/engine/targets/env.js'

const SECRET = 's3cr3t-value'

/** Asserts that `fn` throws an Error whose message contains every fragment and never the secret. */
function throwsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error)
    for (const fragment of fragments) {
      assert.ok(err.message.includes(fragment), `expected ${JSON.stringify(err.message)} to include ${JSON.stringify(fragment)}`)
    }
    assert.ok(!err.message.includes(SECRET), `message must not echo the value: ${err.message}`)
    assert.doesNotMatch(err.message, /\n\s+at /)
    return true
  })
}

/** Runs `script` with `shell -c` in a minimal fixed environment and returns stdout as bytes. */
function runShell(shell: string, script: string): Buffer {
  // A fixed short PATH: long PATHs with shim directories make each bash start take ~70 ms.
  const result = spawnSync(shell, ['-c', script], { env: { PATH: '/usr/bin:/bin' } })
  assert.equal(result.status, 0, `${shell} failed: ${result.stderr?.toString()}`)
  return result.stdout
}

describe('parseEnv', () => {
  it('parses NAME=value lines', () => {
    assert.deepEqual(parseEnv('A=1\nB_2=two\n_c=3'), [
      { name: 'A', value: '1' },
      { name: 'B_2', value: 'two' },
      { name: '_c', value: '3' },
    ])
  })

  it('keeps everything after the first = byte for byte', () => {
    const values = [
      '',
      'a=b=c',
      `"quoted" 'single'`,
      '$HOME $(id) `id` ${X}',
      'back\\slash\\n',
      '  padded  ',
      'ünïcødé 😀',
      '-n',
      'tab\there',
      'mid\rline',
      '#not a comment',
    ]
    const text = values.map((v, i) => `V${i}=${v}`).join('\n')
    assert.deepEqual(
      parseEnv(text).map((v) => v.value),
      values,
    )
  })

  it('skips blank lines and # comments', () => {
    assert.deepEqual(parseEnv('\n# comment\n   \n  # indented comment\nA=1\n\n'), [{ name: 'A', value: '1' }])
    assert.deepEqual(parseEnv(''), [])
  })

  it('removes exactly one trailing \\r (CRLF input)', () => {
    assert.deepEqual(parseEnv('A=1\r\nB=2\r\r\nC=\r\n'), [
      { name: 'A', value: '1' },
      { name: 'B', value: '2\r' },
      { name: 'C', value: '' },
    ])
  })

  it('rejects a line without = without echoing it', () => {
    throwsWith(() => parseEnv(`A=1\n\n${SECRET}`), "line 3 has no '='", 'NAME=value', 'not shown')
  })

  it('rejects invalid names, naming only the name and line', () => {
    throwsWith(() => parseEnv(`1A=${SECRET}`), 'line 1', '"1A" is not a valid variable name', 'NAME=value')
    throwsWith(() => parseEnv(`A=1\nMY-VAR=${SECRET}`), 'line 2', '"MY-VAR"')
    throwsWith(() => parseEnv(`export FOO=${SECRET}`), '"export FOO"')
    throwsWith(() => parseEnv(`FOO =${SECRET}`), '"FOO "')
    throwsWith(() => parseEnv(`=${SECRET}`), "line 1: the name before '=' is empty", 'NAME=value')
    throwsWith(() => parseEnv(`ÄB=${SECRET}`), '"ÄB"')
  })

  it('rejects NUL in a value without echoing it', () => {
    throwsWith(() => parseEnv(`A=${SECRET}\0x`), 'line 1', 'A', 'NUL')
  })

  it('rejects a name set twice', () => {
    throwsWith(() => parseEnv(`A=1\nB=2\nA=${SECRET}`), 'line 3: A is already set on line 1', 'once')
  })
})

describe('shellQuote', () => {
  it('single-quotes and escapes single quotes', () => {
    assert.equal(shellQuote(''), `''`)
    assert.equal(shellQuote('abc'), `'abc'`)
    assert.equal(shellQuote(`it's`), `'it'\\''s'`)
    assert.equal(shellQuote(`''`), `''\\'''\\'''`)
    assert.equal(shellQuote('$x `y` "z" \\'), `'$x \`y\` "z" \\'`)
  })
})

describe('envPrefix', () => {
  it('is empty for no variables', () => {
    assert.equal(envPrefix([]), '')
  })

  it('assigns then exports once', () => {
    assert.equal(
      envPrefix([
        { name: 'A', value: '1' },
        { name: 'B', value: `it's` },
      ]),
      `A='1'\nB='it'\\''s'\nexport A B\n`,
    )
  })

  it('refuses invalid names and NUL values (defence in depth)', () => {
    throwsWith(() => envPrefix([{ name: 'A;rm', value: '1' }]), '"A;rm" is not a valid variable name')
    throwsWith(() => envPrefix([{ name: 'A', value: 'a\0b' }]), 'NUL')
  })

  it('exports to child processes and works before any command', () => {
    const prefix = envPrefix(parseEnv('GREETING=hello world\nEMPTY=\nQ=$(echo no)'))
    const out = runShell('/bin/sh', prefix + `sh -c 'printf "%s|%s|%s" "$GREETING" "$EMPTY" "$Q"'`)
    assert.equal(out.toString('utf8'), 'hello world||$(echo no)')
  })
})

/** Strings without NUL and \n, rich in shell metacharacters and non-ASCII text. */
const tricky = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        "'",
        '"',
        '$(',
        ')',
        '`',
        '\\',
        '\r',
        '-',
        ' ',
        '  ',
        '$V',
        '${V}',
        '\t',
        '!',
        '*',
        '?',
        '~',
        ';',
        '&',
        '|',
        '<',
        '>',
        '%s',
        '%',
        '#',
        '=',
        'é',
        '😀',
        '\u200b',
        "\\'",
        "'\\''",
      ),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join('').replace(/[\0\n]/g, ''))

const shells = ['/bin/sh', '/bin/dash', '/bin/bash'].filter((shell) => existsSync(shell))

describe('envPrefix property: values arrive byte for byte', () => {
  for (const shell of shells) {
    it(`through ${shell}`, () => {
      fc.assert(
        fc.property(tricky, (value) => {
          const vars: EnvVar[] = [{ name: 'V', value }]
          const out = runShell(shell, envPrefix(vars) + 'printf %s "$V"')
          assert.ok(out.equals(Buffer.from(value, 'utf8')), `value ${JSON.stringify(value)} came back as ${JSON.stringify(out.toString('utf8'))}`)
        }),
        { numRuns: 200 },
      )
    })
  }

  it('survives parseEnv round trip with a leading dash and surrounding spaces', () => {
    const [parsed] = parseEnv("V=  -n 'x' $(id) \\  \r")
    const out = runShell(shells[0], envPrefix([parsed]) + 'printf %s "$V"')
    assert.equal(out.toString('utf8'), "  -n 'x' $(id) \\  ")
  })
})

describe('parseEnv: the name the session sets itself', () => {
  it('refuses SSH_FANOUT_RUN (the run token by which a stop finds the command), naming the line', () => {
    throwsWith(() => parseEnv(`A=1\nSSH_FANOUT_RUN=${SECRET}`), 'line 2', 'SSH_FANOUT_RUN is set by ssh-fanout itself', 'use another name')
  })
})
