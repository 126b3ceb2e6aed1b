/**
 * The inventory parsers on their own (no ansible-core needed; inventory-ansible.test.ts compares the
 * corpus with it): which format a text is read as, positions in errors, ansible-core's ordering and
 * quirks, ranges, INI values, YAML specifics, limits.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_INVENTORY_HOSTS } from '../../src/engine/inventory/builder.js'
import { parseInventory } from '../../src/engine/inventory/parse.js'
import { parseIniValue } from '../../src/engine/inventory/py-literal.js'
import { expandHostnameRange } from '../../src/engine/inventory/ranges.js'
import { shlexSplit } from '../../src/engine/inventory/shlex.js'
import { InventoryError, type Inventory } from '../../src/engine/inventory/types.js'

const ini = (text: string) => parseInventory(text, 'inventory.ini')
const yml = (text: string) => parseInventory(text, 'inventory.yml')

/** Each group as `name: hosts | children`. */
function shape(inv: Inventory): string[] {
  return [...inv.groups.values()].map((g) => `${g.name}: ${g.hosts.join(' ')} | ${g.children.join(' ')}`)
}
const hostVars = (inv: Inventory, host: string) => Object.fromEntries([...inv.hosts.get(host)!.vars].map(([k, v]) => [k, v.value]))
const groupVars = (inv: Inventory, group: string) => Object.fromEntries([...inv.groups.get(group)!.vars].map(([k, v]) => [k, v.value]))

/** The InventoryError `fn` throws; its message must hold every fragment. */
function refused(fn: () => unknown, ...fragments: (string | RegExp)[]): string {
  let message = ''
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InventoryError, `not an InventoryError: ${String(err)}`)
    message = err.message
    return true
  })
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(message.includes(f), `expected ${JSON.stringify(message)} to include ${JSON.stringify(f)}`)
    else assert.match(message, f)
  }
  return message
}

describe('parseInventory: which format', () => {
  it('reads a mapping of groups as YAML, with key paths and lines as positions', () => {
    const inv = yml('web:\n  hosts:\n    web1:\n      ansible_port: 2222\n')
    assert.deepEqual(shape(inv), ['all:  | ungrouped web', 'ungrouped:  | ', 'web: web1 | '])
    assert.equal(inv.groups.get('web')!.where, 'web (line 1)')
    assert.equal(inv.hosts.get('web1')!.vars.get('ansible_port')!.where, 'web.hosts.web1.ansible_port (line 4)')
  })

  it('reads sections, and host lines without any, as INI, with lines as positions', () => {
    assert.deepEqual(shape(ini('[web]\nweb1\n')), ['all:  | ungrouped web', 'ungrouped:  | ', 'web: web1 | '])
    const bare = ini('web1 ansible_port=2222\nweb2\n')
    assert.deepEqual(shape(bare), ['all:  | ungrouped', 'ungrouped: web1 web2 | '])
    assert.equal(bare.hosts.get('web1')!.vars.get('ansible_port')!.where, 'line 1')
  })

  it('reads a text that is a YAML mapping but does not start like YAML as INI when it reads as INI', () => {
    const inv = ini('web1 note="a: b"\n')
    assert.deepEqual(hostVars(inv, 'web1'), { note: 'a: b' })
    // Mistyped INI that happens to be a YAML mapping: the INI error, not a YAML inventory of nothing.
    refused(() => ini('web1 a: b c\n'), 'inventory.ini line 1: "a:" after host "web1" is not key=value')
    refused(() => ini('web1 a:\n'), 'inventory.ini line 1: "a:" after host "web1" is not key=value')
  })

  it('reads a YAML inventory that starts with a flow mapping, ---, or a group name with a space', () => {
    assert.deepEqual([...yml('{all: {hosts: {h1: }}}\n').hosts.keys()], ['h1'])
    assert.deepEqual([...yml('# fleet\n---\nweb:\n  hosts: h1\n').hosts.keys()], ['h1'])
    assert.deepEqual(yml('my group:\n  hosts:\n    h1:\n').groups.get('my group')!.hosts, ['h1'])
  })

  it('reads an empty or comment-only text as an inventory with no hosts', () => {
    for (const text of ['', '\n\n', '# nothing yet\n; nor here\n']) {
      const inv = ini(text)
      assert.deepEqual(shape(inv), ['all:  | ungrouped', 'ungrouped:  | '])
      assert.equal(inv.hosts.size, 0)
    }
  })

  it('skips a byte order mark and reads CRLF line ends', () => {
    assert.deepEqual([...ini('\ufeff[web]\r\nweb1\r\n').hosts.keys()], ['web1'])
    assert.deepEqual([...yml('\ufeffweb:\r\n  hosts:\r\n    web1:\r\n').hosts.keys()], ['web1'])
  })

  it('refuses an inventory plugin configuration', () => {
    refused(() => yml('plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n'), 'inventory.yml plugin (line 1):', "inventory plugin's configuration")
  })

  it('gives the YAML syntax error, with line and column, for a YAML inventory that does not parse', () => {
    refused(() => yml('all:\n  hosts:\n    web1:\n   bad: indent\n'), /^inventory\.yml line 3, column 10: All mapping items must start at the same column$/)
    refused(() => yml('all:\n  hosts: [web1\n'), /^inventory\.yml line \d, column \d+: /)
  })

  it('gives the INI error for a text with INI sections that fails', () => {
    refused(() => ini('[web]\nweb1 oops\n'), 'inventory.ini line 2: "oops" after host "web1" is not key=value')
    refused(() => ini('web1 oops\n[web]\nweb2\n'), 'inventory.ini line 1: "oops" after host "web1" is not key=value')
    refused(() => ini('[web servers]\nweb1\n'), 'inventory.ini line 1: "[web servers]" is not a section header')
  })

  it('on a tie (both fail on one line), gives the INI error unless the text starts like YAML', () => {
    refused(() => ini('web1 a: b: c\n'), 'inventory.ini line 1: "a:" after host "web1" is not key=value')
    refused(() => yml('all: b: c\n'), /^inventory\.yml line 1, column \d+: Nested mappings are not allowed/)
  })
})

describe('INI', () => {
  it('keeps the group order ansible-core has: all, ungrouped, then as first named', () => {
    const inv = ini('[b]\nh1\n[a:children]\nb\n[c]\n')
    assert.deepEqual(shape(inv), ['all:  | ungrouped a c', 'ungrouped:  | ', 'b: h1 | ', 'a:  | b', 'c:  | '])
  })

  it('moves a host out of ungrouped once it is in another group, and keeps ungrouped order', () => {
    const inv = ini('u1\nu2\nu3\n[web]\nu2\n[all]\na1\n')
    assert.deepEqual(inv.groups.get('ungrouped')!.hosts, ['u1', 'u3', 'a1'])
    assert.deepEqual(inv.groups.get('all')!.hosts, ['a1'])
  })

  it('links children and applies vars written before their group is declared', () => {
    const inv = ini('[p:vars]\nx=1\n[p:children]\nc\n[c]\nh\n[p]\n')
    assert.deepEqual(inv.groups.get('p')!.children, ['c'])
    assert.deepEqual(groupVars(inv, 'p'), { x: 1 })
  })

  it('refuses a group never declared, at the line that names it', () => {
    refused(
      () => ini('[web]\nh\n\n[web:children]\nmissing\n'),
      'inventory.ini line 5: [web:children] lists missing, but no [missing] or [missing:children] section declares it',
    )
    refused(() => ini('[db:vars]\nx=1\n'), 'inventory.ini line 1: [db:vars] is for group db')
  })

  it('refuses loops and a group that is its own child', () => {
    refused(() => ini('[a:children]\nb\n[b:children]\na\n'), 'inventory.ini line 4:', 'loop')
    refused(() => ini('[a:children]\na\n'), 'inventory.ini line 2: group a is listed as its own child')
  })

  it('refuses unknown section types, entries without =, a port-less colon and YAML markers', () => {
    refused(() => ini('[web:hosts2]\n'), 'inventory.ini line 1: section "[web:hosts2]" has the unknown type "hosts2"')
    refused(() => ini('[web:vars]\njust text\n[web]\n'), 'inventory.ini line 2: "just text" is not key=value')
    refused(() => ini('[web]\nweb1:\n'), 'inventory.ini line 2: host "web1:" ends with \':\'')
    refused(() => ini('[web]\nweb1\n[web:children]\nbad name here\n'), 'inventory.ini line 4: "bad name here" is not a group name')
    refused(() => ini("[web]\nweb1 x='open\n"), 'inventory.ini line 2: cannot split the host line', 'No closing quotation')
  })

  it('reads comments as ansible-core does: # and ; lines, # after a section or a host entry, not after a var', () => {
    const inv = ini('; one\n# two\n[web] # three\nweb1 # four\nweb2 a=1#five\n[web:vars]\nx = 5 # a Python comment\ny = a ; b\n')
    assert.deepEqual([...inv.hosts.keys()], ['web1', 'web2'])
    assert.deepEqual(hostVars(inv, 'web2'), { a: 1 })
    assert.deepEqual(groupVars(inv, 'web'), { x: 5, y: 'a ; b' })
  })

  it('takes host:port only where the host is first written, and a same-named group takes a host var', () => {
    const inv = ini('[a]\nh:2201\n[b]\nh:2299\n[web]\n[c]\nweb x=1\n')
    assert.deepEqual(hostVars(inv, 'h'), { ansible_port: 2201 })
    assert.deepEqual(groupVars(inv, 'web'), { x: 1 })
    assert.deepEqual(hostVars(inv, 'web'), {})
    // Only a group that exists by then: declared later, the var stays the host's.
    const later = ini('[c]\nweb x=1\n[web]\n')
    assert.deepEqual(hostVars(later, 'web'), { x: 1 })
    assert.deepEqual(groupVars(later, 'web'), {})
  })

  it('reads IPv6 with a port in brackets only, and a host entry it cannot split as a name', () => {
    const inv = ini('[2001:db8::1]:2222\n2001:db8::2\nbad_:22\n')
    assert.deepEqual([...inv.hosts.keys()], ['2001:db8::1', '2001:db8::2', 'bad_:22'])
    assert.deepEqual(hostVars(inv, '2001:db8::1'), { ansible_port: 2222 })
  })
})

describe('YAML', () => {
  it('names the key path and line of a structural mistake', () => {
    refused(
      () => yml('all:\n  children:\n    web:\n      hosts:\n        - web1\n'),
      'inventory.yml all.children.web.hosts (line 4): hosts is a mapping (or empty); here it is a list',
    )
    refused(
      () => yml('web:\n  hosts:\n    web1: text\n'),
      'inventory.yml web.hosts.web1 (line 3): a host\'s value is a mapping of its vars, or empty; here it is the text "text"',
    )
    refused(() => yml('web:\n  hosts:\n    10:\n'), 'inventory.yml web.hosts.10 (line 3): host name 10 is not text; quote it')
    // As in ansible-core, the loop shows when b (whose subtree makes a a child of b) becomes a's child.
    refused(() => yml('a:\n  children:\n    b:\n      children:\n        a:\n'), 'inventory.yml a.children.b (line 3): making b a child of a makes a loop')
    refused(() => yml('web:\n  hosts:\n    web[1:0]:\n'), 'inventory.yml web.hosts.web[1:0] (line 3): "web[1:0]": range [1:0] goes backwards')
  })

  it('takes keys in the order written: children before hosts makes the children first', () => {
    const inv = yml('all:\n  children:\n    web:\n      hosts:\n        w1:\n  hosts:\n    a1:\n')
    assert.deepEqual([...inv.hosts.keys()], ['w1', 'a1'])
    assert.deepEqual(shape(inv), ['all: a1 | ungrouped web', 'ungrouped: a1 | ', 'web: w1 | '])
  })

  it('skips into ignored what ansible-core skips with a warning', () => {
    const inv = yml('web:\n  hosts:\n    w1:\n  note: text\n  other: {a: 1}\n  nothing:\nstray: text\n')
    assert.deepEqual(inv.ignored, ['web.note', 'web.other', 'stray'])
  })

  it('reads YAML 1.1 scalars as PyYAML does', () => {
    const inv = yml(
      'all:\n  vars:\n    a: yes\n    b: y\n    c: 0755\n    d: 1:30\n    e: 1e3\n    f: 1.0e+3\n    g: 08\n    h: ~\n    i: .inf\n    j: 2001-12-14\n',
    )
    assert.deepEqual(groupVars(inv, 'all'), { a: true, b: 'y', c: 493, d: 90, e: '1e3', f: 1000, g: '08', h: null, i: Infinity, j: '2001-12-14' })
  })

  it('keeps a key written twice in its first place with its last value, as PyYAML does', () => {
    const inv = yml('web:\n  hosts:\n    w1: {a: 1}\n    w2:\n    w1: {b: 2}\n')
    assert.deepEqual([...inv.hosts.keys()], ['w1', 'w2'])
    assert.deepEqual(hostVars(inv, 'w1'), { b: 2 })
  })

  it('merges << keys (the first of a list winning) and follows aliases', () => {
    const inv = yml('x: &base {vars: {a: 1, b: 1}}\ny:\n  vars:\n    <<: [{a: 2}, *base]\n    c: 3\n  hosts: {h: {<<: {p: 1}, p: 2}}\n')
    // PyYAML puts merged keys first, the last listed first; the first listed wins.
    assert.deepEqual(Object.entries(groupVars(inv, 'y')), [
      ['vars', { a: 1, b: 1 }],
      ['a', 2],
      ['c', 3],
    ])
    assert.deepEqual(hostVars(inv, 'h'), { p: 2 })
    const merged = yml('y:\n  vars:\n    v:\n      <<: [{a: 2}, {a: 1, b: 1}]\n')
    assert.deepEqual(groupVars(merged, 'y'), { v: { a: 2, b: 1 } })
  })

  it('keeps !unsafe text as text and !vault values as ansible-inventory shows them', () => {
    const inv = yml('all:\n  vars:\n    u: !unsafe "{{ x }}"\n    s: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      6162\n')
    assert.deepEqual(groupVars(inv, 'all'), { u: '{{ x }}', s: { __ansible_vault: '$ANSIBLE_VAULT;1.1;AES256\n6162\n' } })
    refused(() => yml('all:\n  vars:\n    x: !custom 1\n'), 'inventory.yml line 3, column 8: Unresolved tag: !custom')
  })

  it('refuses an alias that contains itself and stops an alias bomb', () => {
    refused(() => yml('all:\n  vars:\n    a: &a [*a]\n'), 'all.vars.a', 'contains itself')
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 8; i++)
      bomb.push(
        `${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10)
          .fill(`*${'abcdefgh'[i - 1]}`)
          .join(', ')}]`,
      )
    refused(() => yml(`all:\n  vars:\n${bomb.map((l) => `    ${l}`).join('\n')}\n`), 'the aliases expand to more than')
  })

  it('keeps an integer too large for a number as its decimal text', () => {
    assert.deepEqual(groupVars(yml('all:\n  vars:\n    n: 123456789012345678901234567890\n'), 'all'), { n: '123456789012345678901234567890' })
  })
})

describe('host ranges', () => {
  it('expands numbers with leading zeros, letters, steps and several ranges', () => {
    assert.deepEqual(expandHostnameRange('www[01:03].example.com', 100), ['www01.example.com', 'www02.example.com', 'www03.example.com'])
    assert.deepEqual(expandHostnameRange('db-[a:c]', 100), ['db-a', 'db-b', 'db-c'])
    assert.deepEqual(expandHostnameRange('n[y:B]', 100), ['ny', 'nz', 'nA', 'nB'])
    assert.deepEqual(expandHostnameRange('w[1:10:4]', 100), ['w1', 'w5', 'w9'])
    assert.deepEqual(expandHostnameRange('w[:2]', 100), ['w0', 'w1', 'w2'])
    assert.deepEqual(expandHostnameRange('r[1:2]n[a:b]', 100), ['r1na', 'r1nb', 'r2na', 'r2nb'])
    assert.deepEqual(expandHostnameRange('w[8:10]', 100), ['w8', 'w9', 'w10'])
  })

  it('refuses a bad range, saying what a range looks like', () => {
    const cases: [string, string][] = [
      ['w[1]', 'is not start:end'],
      ['w[1:2:3:4]', 'is not start:end'],
      ['w[1:]', 'has no end'],
      ['w[01:100]', 'must have as many digits (2)'],
      ['w[3:1]', 'goes backwards'],
      ['w[c:a]', 'goes backwards'],
      ['w[a:3]', 'neither numbers nor single letters'],
      ['w[1:3:0]', 'step'],
      ['w[1:3:x]', 'step'],
      ['w[1:3', "'[' without its ']'"],
    ]
    for (const [pattern, why] of cases) {
      assert.throws(
        () => expandHostnameRange(pattern, 100),
        (err: Error) => err.message.includes(why) && err.message.includes('write a range as [start:end]'),
        pattern,
      )
    }
  })

  it('stops before building more names than allowed', () => {
    assert.throws(() => expandHostnameRange('w[0:99999999999]', 1000), /expands to more than 1000 hosts/)
    assert.throws(() => expandHostnameRange('w[0:9][0:9][0:9][0:9]', 1000), /expands to more than 1000 hosts/)
    assert.equal(expandHostnameRange('w[0:9][0:9][0:9]', 1000).length, 1000)
  })

  it('refuses an inventory of more than MAX_INVENTORY_HOSTS hosts', () => {
    refused(() => ini(`[web]\nw[0:${MAX_INVENTORY_HOSTS}]\n`), 'inventory.ini line 2:', `more than ${MAX_INVENTORY_HOSTS}`)
  })
})

describe('INI values (ast.literal_eval)', () => {
  it('reads Python literals and keeps everything else as text', () => {
    const cases: [string, unknown][] = [
      ['23', 23],
      ['-0x10', -16],
      ['1_000', 1000],
      ['1.5e3', 1500],
      ['True', true],
      ['None', null],
      ['true', 'true'],
      ['07', '07'],
      ["'a b'", 'a b'],
      ['\'a\' "b"', 'ab'],
      ['[1, (2, 3)]', [1, [2, 3]]],
      ['1, 2', [1, 2]],
      ["{'a': [1], 2: None}", { a: [1], 2: null }],
      ['{1, 2, 1}', [1, 2]],
      ['1j', '1j'],
      ['1 + 1', '1 + 1'],
      ['web01', 'web01'],
      ['{{ x }}', '{{ x }}'],
      ["'\\x41\\u00e9\\101'", 'AéA'],
      ["b'caf\\xc3\\xa9'", 'café'],
      ['12345678901234567890', '12345678901234567890'],
    ]
    for (const [text, value] of cases) assert.deepEqual(parseIniValue(text), value, text)
    assert.ok(Object.is(parseIniValue('-0'), 0))
    assert.ok(Object.is(parseIniValue('-0.0'), -0))
  })
})

describe('shlex split of a host line', () => {
  it('splits as Python shlex does in POSIX mode with comments', () => {
    assert.deepEqual(shlexSplit(`a b="c d" 'e f'g h\\ i "j\\"k\\l" '' x#y z`), ['a', 'b=c d', 'e fg', 'h i', 'j"k\\l', '', 'x'])
    assert.throws(() => shlexSplit('a "b'), /No closing quotation/)
    assert.throws(() => shlexSplit('a \\'), /No escaped character/)
  })
})
