import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { globRegExp } from '../../src/engine/inventory/glob.js'
import { pythonRegExp } from '../../src/engine/inventory/regex.js'
import { isAddress, orderPatterns, splitHostPattern } from '../../src/engine/inventory/split.js'
import { InventoryError } from '../../src/engine/inventory/types.js'
import { runPython } from '../helpers/ansible-select.js'
import { haveAnsible } from '../helpers/tools.js'

const noAnsible = !haveAnsible() && 'ansible-core not installed'

/** A small seeded PRNG (mulberry32): the same cases on every run. */
function prng(seed: number): (n: number) => number {
  let a = seed
  return (n) => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
  }
}
const pick = <T>(rnd: (n: number) => number, xs: readonly T[]): T => xs[rnd(xs.length)]
const strings = (rnd: (n: number) => number, parts: readonly string[], count: number, maxLen: number): string[] =>
  Array.from({ length: count }, () => Array.from({ length: rnd(maxLen + 1) }, () => pick(rnd, parts)).join(''))

describe('split_host_pattern and order_patterns', () => {
  it('a comma anywhere splits on commas only; whitespace around terms goes', () => {
    assert.deepEqual(splitHostPattern('web:db, &eu ,,!canary'), ['web:db', '&eu', '!canary'])
  })

  it('without a comma, cuts at : and whitespace, keeping [..] whole, unless the whole is one address', () => {
    assert.deepEqual(splitHostPattern('web:&eu:!canary'), ['web', '&eu', '!canary'])
    assert.deepEqual(splitHostPattern('web db\tlb'), ['web', 'db', 'lb'])
    assert.deepEqual(splitHostPattern('web[1:3]:db[0]'), ['web[1:3]', 'db[0]'])
    assert.deepEqual(splitHostPattern('web[1:3]'), ['web[1:3]'], 'a host range is one address')
    assert.deepEqual(splitHostPattern('fe80::1'), ['fe80::1'])
    assert.deepEqual(splitHostPattern('web:80'), ['web:80'], 'reads as host web, port 80, as in Ansible')
    assert.deepEqual(splitHostPattern('~web.*:db'), ['~web.*', 'db'])
    assert.equal(isAddress('[::1]:22'), true)
    assert.equal(isAddress('web:db'), false)
  })

  it('puts unions first, then & terms, then ! terms; all when there is no union', () => {
    assert.deepEqual(orderPatterns(['!a', '&b', 'c', '!d', 'e', '&f']), ['c', 'e', '&b', '&f', '!a', '!d'])
    assert.deepEqual(orderPatterns(['!a', '&b']), ['all', '&b', '!a'])
    assert.deepEqual(orderPatterns([]), ['all'])
  })
})

describe('wildcards (fnmatch)', () => {
  const m = (p: string, n: string) => globRegExp(p).test(n)
  it('matches the whole name; * ? [set] [!set]; case counts', () => {
    assert.ok(m('web*', 'web01') && !m('web*', 'xweb') && !m('Web*', 'web1'))
    assert.ok(m('w?b', 'wab') && !m('w?b', 'wb'))
    assert.ok(m('db[12]x', 'db1x') && !m('db[12]x', 'db3x') && m('db[!12]x', 'db3x'))
    assert.ok(m('[]a]', ']') && m('[a-c]', 'b') && !m('[c-a]', 'b') && m('[c-a-z]', 'z'), '] first literal; reversed range empty')
    assert.ok(m('a[', 'a[') && m('a.b', 'a.b') && !m('a.b', 'axb'), 'an unclosed [ and a dot are literal')
    assert.ok(m('*', '') && m('**a', 'ba'))
  })
})

describe('~regex (Python re.match in JavaScript)', () => {
  const m = (p: string, n: string) => pythonRegExp(p).test(n)
  it('anchors at the start only', () => {
    assert.ok(m('web', 'web01') && !m('web', 'xweb') && m('.*web', 'xweb'))
  })

  it('means what Python means by \\d \\w \\s \\b, $, ., {,n}, named groups, leading flags', () => {
    assert.ok(m('db\\d$', 'db\u0663'), '\\d is any Unicode digit')
    assert.ok(m('\\w+$', 'caf\u00e9') && m('\\s', '\u001c'))
    assert.ok(m('ab$', 'ab\n'), '$ also before a final newline')
    assert.ok(!m('a.b', 'a\nb') && m('(?s)a.b', 'a\nb'))
    assert.ok(m('a{,2}b$', 'aab') && !m('a{,2}b$', 'aaab'))
    assert.ok(m('a{x}', 'a{x}') && m('a{}', 'a{}'), 'a { that is no repeat is literal')
    assert.ok(m('(?P<x>a)(?P=x)', 'aa') && m('(a)\\1', 'aa'))
    assert.ok(m('(?i)WEB', 'web') && m('web\\b', 'web-1') && !m('web\\b', 'web1'))
    assert.ok(m('a\\-\\#', 'a-#') && m('\\U0001F600', '\u{1F600}') && m('[\\d_]+$', '1_2'))
    assert.ok(m('(?#comment)x', 'x') && m('\\Aa\\Z', 'a') && !m('a\\Z', 'a\n'))
  })

  it('refuses what JavaScript reads differently, and invalid regexes, naming the pattern', () => {
    const refused = (p: string, fragment: string) =>
      assert.throws(
        () => pythonRegExp(p),
        (e: unknown) => e instanceof InventoryError && e.message.includes(`"~${p}"`) && e.message.includes(fragment),
      )
    refused('(?x)a b', '(?x)')
    refused('(?>a)', 'atomic')
    refused('a*+', 'possessive')
    refused('a(?i)b', 'inline flags')
    refused('(?i:a)', 'scoped flags')
    refused('\\N{DASH}', '\\N{')
    refused('\\012', 'octal')
    refused('[\\W]', '\\W inside')
    refused('(?(1)a|b)', 'conditional')
    refused('a\\q', 'bad escape \\q')
    refused('[a', 'unterminated')
    refused('a)', 'not a valid regular expression')
    refused('*a', 'not a valid regular expression')
    refused('^*', 'nothing to repeat')
    refused('(?=a)*', 'a repeat on a lookaround')
    refused('(?<=a+)b', 'fixed-width')
    refused('\\1(a)', 'invalid group reference 1')
    refused('(a\\1)', 'invalid group reference 1')
  })
})

describe('the same answers as Python and ansible-core', { skip: noAnsible }, () => {
  it('fnmatch: random wildcards and names match as fnmatch.translate + re.match says', async () => {
    const rnd = prng(18)
    const patterns = strings(rnd, ['a', 'b', 'z', '*', '?', '[', ']', '!', '-', '^', '\\', '.', 'é'], 1500, 8)
    const names = strings(rnd, ['a', 'b', 'z', '-', ']', '!', '^', '\\', '.', '[', 'é'], 1500, 5)
    const py = (await runPython(
      String.raw`
import fnmatch, json, re, sys
out = []
for p, n in json.load(sys.stdin):
  try: out.append(bool(re.compile(fnmatch.translate(p)).match(n)))
  except Exception: out.append('error')
print(json.dumps(out))`,
      patterns.map((p, i) => [p, names[i]]),
    )) as (boolean | 'error')[]
    patterns.forEach((p, i) => {
      let ours: boolean | 'error'
      try {
        ours = globRegExp(p).test(names[i])
      } catch {
        ours = 'error'
      }
      assert.equal(ours, py[i], `fnmatch ${JSON.stringify(p)} on ${JSON.stringify(names[i])}`)
    })
  })

  it('re.match: random regexes give the same match, or we refuse them, or both call them invalid', async () => {
    const rnd = prng(1818)
    // The syntax both read alike, what we translate, and what we refuse, shuffled.
    const parts = ['a', 'b', '1', '2', 'A', 'é', '\n', '.', '*', '+', '?', '|', '(', ')', '[', ']', '^', '$', '{', '}', ',', '-', '*?', '+?', '??']
      .concat(['\\d', '\\w', '\\s', '\\D', '\\W', '\\S', '\\b', '\\B', '\\.', '\\Z', '\\A', '\\1', '\\x41', '\\u00e9', '\\\\', '\\-', '\\]', '\\['])
      .concat(['(?:', '(?=', '(?!', '(?<=', '(?<!', '(?P<n>', '(?P=n)', '(?i)', '(?s)', '(?m)', '{1,2}', '{,3}', '{2}'])
    const regexes = strings(rnd, parts, 4000, 8)
    const names = [
      '',
      'a',
      'ab',
      'a1',
      'b2b',
      'a.b',
      'ab\n',
      'a b',
      'a\u0663',
      'é1',
      '1a',
      'aa22',
      '{a}',
      'a-b',
      '\u001c',
      'A',
      'É',
      'a\nb',
      '\\',
      ']',
      'e\u0301',
    ]
    const py = (await runPython(
      String.raw`
import json, re, sys, warnings
warnings.simplefilter('ignore')
regexes, names = json.load(sys.stdin)
out = []
for r in regexes:
  try: c = re.compile(r)
  except Exception: out.append('error'); continue
  out.append([bool(c.match(n)) for n in names])
print(json.dumps(out))`,
      [regexes, names],
    )) as (boolean[] | 'error')[]
    let compared = 0
    let refused = 0
    regexes.forEach((r, i) => {
      let ours: RegExp | undefined
      let refusal = ''
      try {
        ours = pythonRegExp(r)
      } catch (e) {
        assert.ok(e instanceof InventoryError)
        refusal = e.message
      }
      const want = py[i]
      if (want === 'error') {
        // Python rejects it; so do we, except a look-behind whose alternatives differ in width (JS takes it).
        if (ours !== undefined) assert.match(r, /\(\?<[=!].*\|/, `Python rejects ${JSON.stringify(r)}, we accept it`)
        return
      }
      // A construct we refuse on purpose (possessive repeats and the like) is not a mismatch.
      if (ours === undefined && refusal.includes('reads differently')) return void refused++
      assert.ok(ours !== undefined, `Python accepts ${JSON.stringify(r)}, we call it invalid: ${refusal}`)
      assert.deepEqual(
        names.map((n) => ours.test(n)),
        want,
        `~${r} over ${JSON.stringify(names)}`,
      )
      compared++
    })
    assert.ok(compared > 1000 && refused < compared / 10, `${compared} valid regexes compared, ${refused} refused`)
  })

  it('split_host_pattern + order_patterns: random patterns cut and ordered as ansible-core does', async () => {
    const rnd = prng(2014)
    const parts = ['web', 'db', '1', '22', ':', ':', '::', ',', ' ', '&', '!', '[1:3]', '[0]', '[a:c]', '*', '~', 'fe80', '.', '-', '10.0.0.1', '[', ']']
    const patterns = strings(rnd, parts, 3000, 6)
    const py = (await runPython(
      String.raw`
import json, sys
from ansible.inventory.manager import split_host_pattern, order_patterns
print(json.dumps([order_patterns(split_host_pattern(p)) for p in json.load(sys.stdin)]))`,
      patterns,
    )) as string[][]
    patterns.forEach((p, i) => assert.deepEqual(orderPatterns(splitHostPattern(p)), py[i], `pattern ${JSON.stringify(p)}`))
  })
})
