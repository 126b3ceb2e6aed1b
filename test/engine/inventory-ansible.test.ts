/**
 * The inventory parser against ansible-core itself (Debian's ansible-core, installed by the test setup),
 * over the corpus in test/fixtures/inventory/ (`*.ini` read by its INI plugin, `*.yml` by its YAML one):
 * - with its plugins and InventoryData (ansible_dump.py): the groups and hosts in the same order, each
 *   group's hosts, children and own vars, each host's own vars (in the order set), `ansible_group_priority`
 *   as Group.priority takes it, a warning for each `ignored` key, and a refusal for each `error-*` file
 *   (on the same line, where ansible-core names one);
 * - `ansible-inventory --list --export`: every group's hosts, children and vars, every host's vars;
 * - ansible-core's INI value parsing (literal_eval) over many texts.
 */
import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseInventory } from '../../src/engine/inventory/parse.js'
import { parseIniValue } from '../../src/engine/inventory/py-literal.js'
import { InventoryError, type Inventory, type Var } from '../../src/engine/inventory/types.js'
import { ansibleIniValues, ansibleInventoryList, ansibleRead, FIXTURES, type AnsibleRead, type ExportedGroup } from '../helpers/ansible.js'
import { haveAnsible } from '../helpers/tools.js'

const files = readdirSync(FIXTURES).filter((f) => /\.(ini|yml)$/.test(f))
const pluginOf = (file: string) => (file.endsWith('.ini') ? 'ini' : 'yaml')
const read = (file: string) => readFileSync(join(FIXTURES, file), 'utf8')

const pairs = (vars: Map<string, Var>): [string, unknown][] => [...vars].map(([k, v]) => [k, v.value])
const PRIORITY = 'ansible_group_priority'
/** Group.set_priority: Python's int() of the value as written (1 when never set). */
function priorityOf(vars: Map<string, Var>): number {
  const v = vars.get(PRIORITY)?.value
  return v === undefined ? 1 : Math.trunc(Number(v))
}

describe('inventory corpus vs ansible-core', { skip: !haveAnsible() && 'ansible-core not installed' }, () => {
  const theirs: Record<string, AnsibleRead> = {}
  before(async () => {
    for (const plugin of ['ini', 'yaml'] as const) {
      const paths = files.filter((f) => pluginOf(f) === plugin).map((f) => join(FIXTURES, f))
      Object.assign(theirs, await ansibleRead(plugin, paths))
    }
  })

  it('has a corpus of both formats, with errors', () => {
    assert.ok(files.filter((f) => f.endsWith('.ini') && !f.startsWith('error-')).length >= 8)
    assert.ok(files.filter((f) => f.endsWith('.yml') && !f.startsWith('error-')).length >= 8)
    assert.ok(files.filter((f) => f.startsWith('error-')).length >= 10)
  })

  for (const file of files.filter((f) => !f.startsWith('error-'))) {
    it(`${file}: the same groups, hosts, members, children and vars, in the same order`, () => {
      const ansible = theirs[join(FIXTURES, file)]
      assert.ok(!('error' in ansible), `ansible-core refused ${file}: ${'error' in ansible ? ansible.error : ''}`)
      const inv = parseInventory(read(file), file)
      assert.deepEqual(
        [...inv.groups.values()].map((g) => [
          g.name,
          { hosts: g.hosts, children: g.children, vars: pairs(g.vars).filter(([k]) => k !== PRIORITY), priority: priorityOf(g.vars) },
        ]),
        ansible.groups,
      )
      assert.deepEqual(
        [...inv.hosts.values()].map((h) => [h.name, pairs(h.vars)]),
        ansible.hosts,
      )
      const skipped = ansible.warnings.filter((w) => w.startsWith('Skipping'))
      assert.equal(inv.ignored.length, skipped.length, `ignored ${JSON.stringify(inv.ignored)}; ansible-core warned ${JSON.stringify(skipped)}`)
    })
  }

  for (const file of files.filter((f) => f.startsWith('error-'))) {
    it(`${file}: refused, as ansible-core refuses it`, () => {
      const ansible = theirs[join(FIXTURES, file)]
      assert.ok('error' in ansible, `ansible-core accepted ${file}`)
      let message = ''
      assert.throws(
        () => parseInventory(read(file), file),
        (err: unknown) => err instanceof InventoryError && ((message = err.message), true),
      )
      assert.ok(message.startsWith(`${file} `), message)
      const line = /:(\d+): /.exec(ansible.error)?.[1]
      if (line !== undefined) assert.match(message, new RegExp(`\\bline ${line}\\b`), `ansible-core: ${ansible.error}`)
    })
  }
})

describe('inventory corpus vs ansible-inventory --list --export', { skip: !haveAnsible() && 'ansible-core not installed', concurrency: 2 }, () => {
  for (const file of files.filter((f) => !f.startsWith('error-'))) {
    it(`${file}: every group's hosts, children and vars; every host's vars`, async () => {
      const listed = await ansibleInventoryList(pluginOf(file), join(FIXTURES, file))
      const inv = parseInventory(read(file), file)
      for (const group of inv.groups.values()) {
        const vars = Object.fromEntries(pairs(group.vars).filter(([k]) => k !== PRIORITY))
        if (priorityOf(group.vars) !== 1) vars[PRIORITY] = priorityOf(group.vars)
        const ours: ExportedGroup = { hosts: group.name === 'all' ? [] : group.hosts, children: group.children, vars }
        const shown = (listed[group.name] ?? {}) as ExportedGroup
        // ansible-inventory leaves out what is empty (and `all`'s hosts).
        assert.deepEqual({ hosts: shown.hosts ?? [], children: shown.children ?? [], vars: shown.vars ?? {} }, ours, `group ${group.name}`)
      }
      // It lists the hosts that have vars of their own.
      const withVars = [...inv.hosts.values()].filter((h) => h.vars.size > 0).map((h) => h.name)
      assert.deepEqual(Object.keys(listed._meta.hostvars).sort(), withVars.sort())
      for (const host of inv.hosts.values()) assert.deepEqual(listed._meta.hostvars[host.name] ?? {}, Object.fromEntries(pairs(host.vars)), `host ${host.name}`)
      assert.deepEqual(
        Object.keys(listed)
          .filter((k) => k !== '_meta')
          .sort(),
        nonEmptyGroups(inv).sort(),
      )
    })
  }
})

function nonEmptyGroups(inv: Inventory): string[] {
  return [...inv.groups.values()].filter((g) => (g.name !== 'all' && g.hosts.length > 0) || g.children.length > 0 || g.vars.size > 0).map((g) => g.name)
}

/** Texts for INI values: numbers, strings, containers, Python syntax that is not a literal, near misses. */
const VALUE_TEXTS = [
  ...['0', '00', '07', '0_0', '0_7', '1_000', '1__0', '1_', '-5', '+5', '- 5', '--5', '-(5)', '(-5)', '-(-5)', '+True', '-0'],
  ...[
    '0x1F',
    '0X1f',
    '0x_1f',
    '0x',
    '0o17',
    '0O7',
    '0o8',
    '0b101',
    '0b2',
    '1.5',
    '.5',
    '5.',
    '1e3',
    '1E-3',
    '1.e5',
    '00.5',
    '09.5',
    '1_0.5',
    '1.5.3',
    '1e',
    '1j',
    '1+2j',
  ],
  ...['123456789012345678901234567890', '-123456789012345678901234567890', '9007199254740991', '9007199254740993', '9'.repeat(4300), '9'.repeat(4301)],
  ...['True', 'False', 'None', 'true', 'yes', 'null', 'none', 'set()', 'set ( )', 'set(1)', '...', 'Ellipsis'],
  ...["'a'", '"a"', "'a' 'b'", "'a''b'", "u'x'", "U'x'", "r'a\\tb'", "R'a'", "b'abc'", "B'x'", "br'\\x41'", "rb'x'", "f'x'", "x'a'", "u'x' b'y'"],
  ...["'''a'b'''", '"""x"""', "''", '""', "'unclosed", "'a\\'b'", "'\\\\'", "'a\\tb\\nc'", "'\\x41\\x4'", "'\\x41'", "'\\101'", "'\\777'", "b'\\777'"],
  ...["'\\u00e9'", "'\\u00e'", "'\\U0001F600'", "'\\U00110000'", "'\\N{DASH}'", "b'\\u00e9'", "'\\d'", "'\\8'", "'é'", "b'é'", "b'caf\\xc3\\xa9'"],
  ...['[1, 2]', '[1, 2,]', '[,]', '[]', '()', '(1)', '(1,)', '(1, 2)', '(1 2)', '1, 2', '1,', ',', '1,,2', '[[1, [2]], (3,)]', '[1][0]', '[*a]'],
  ...['{}', "{'a': 1}", "{'a': 1,}", '{1: 2, 3}', '{1, 2}', '{1, 1, 2}', "{'a': {'b': [1, (2, 3)]}}", '{True: 1, None: 2, 1.5: 3}', '{**a}', '{:}'],
  ...[
    '1 # comment',
    "'a' # c",
    '1 #',
    '# only',
    '  5',
    '\t5',
    '\f5',
    '5 ',
    '[1, # c',
    'x',
    'web01',
    'a b',
    'a=b',
    'a,b',
    '1+1',
    '1 if 1 else 2',
    '1if 1else 2',
  ],
  ...[
    'not True',
    '(yield)',
    'lambda: 1',
    '[x for x in y]',
    'a.b',
    '"{{ x }}"',
    '{{ x }}',
    '$HOME',
    '/srv/app',
    'http://x:80/y',
    'é',
    '\u00a05',
    '1\u00a0',
    '['.repeat(201) + ']'.repeat(201),
    '['.repeat(150) + ']'.repeat(150),
  ],
  ...["'a\u2028b'", 'a\u0000b', "'\\0'", '0.1e-5', '1_000.000_1e1_0', '1e1_0', '1e_10', '0e0', '0_0.0', '0x1g'],
]

/** Random texts from pieces of Python literal syntax (a fixed seed: the same texts every run). */
const RANDOM_TEXTS = fc
  .sample(
    fc
      .array(
        fc.constantFrom(
          ...['0', '1', '7', '9', 'x', 'o', 'b', 'e', 'j', 'r', 'u', 'f', '_', '.', '-', '+', ' ', "'", '"', '\\', '(', ')', '[', ']', '{', '}', ',', ':', '#'],
        ),
        {
          minLength: 1,
          maxLength: 8,
        },
      )
      .map((parts) => parts.join('')),
    { numRuns: 3000, seed: 18 },
  )
  .concat(
    fc.sample(
      fc
        .constantFrom('True', 'None', "'a'", '"b"', '12', '0x1', '1.5', '[', ']', '(', ')', '{', '}', ',', ':', ' ', '-', "b'c'", 'set()')
        .chain((first) =>
          fc
            .array(fc.constantFrom('True', 'None', "'a'", '12', '0x1', '1.5', '[', ']', '(', ')', '{', '}', ',', ':', ' ', '-', 'set()'), { maxLength: 8 })
            .map((rest) => first + rest.join('')),
        ),
      { numRuns: 3000, seed: 18 },
    ),
  )

describe('INI values vs ansible-core _parse_value', { skip: !haveAnsible() && 'ansible-core not installed' }, () => {
  for (const [name, texts] of [
    ['chosen texts', VALUE_TEXTS],
    ['random texts of Python literal pieces', RANDOM_TEXTS],
  ] as const) {
    it(`reads ${name} as ansible-core does (or keeps the text where noted)`, () => compareValues(texts))
  }
})

async function compareValues(texts: readonly string[]): Promise<void> {
  {
    const theirs = await ansibleIniValues([...texts])
    const differ: string[] = []
    texts.forEach((text, i) => {
      const ansible = theirs[i] as { value?: unknown; error?: string }
      const ours = parseIniValue(text)
      // Where Python builds what has no counterpart here (complex numbers, Ellipsis), the text is kept.
      if (ansible.error !== undefined || (typeof ansible.value === 'object' && ansible.value !== null && 'unrepresentable' in ansible.value)) {
        if (ours !== text) differ.push(`${JSON.stringify(text)}: ansible-core ${JSON.stringify(ansible)}, ours ${JSON.stringify(ours)}`)
        return
      }
      try {
        assert.deepEqual(ours, ansible.value)
      } catch {
        differ.push(`${JSON.stringify(text)}: ansible-core ${JSON.stringify(ansible.value)}, ours ${JSON.stringify(ours)}`)
      }
    })
    const KNOWN = new Set(["'\\N{DASH}'"]) // \N{name} needs Unicode's name table
    assert.deepEqual(
      differ.filter((d) => !KNOWN.has(JSON.parse(d.slice(0, d.indexOf(': '))) as string)),
      [],
    )
  }
}
