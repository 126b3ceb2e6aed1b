import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { batchByGroup } from '../../src/engine/inventory/batch.js'
import { firstOwnGroups, groupHosts, inventoryOrder, walkGroups } from '../../src/engine/inventory/order.js'
import { evaluatePattern, select, selectHosts } from '../../src/engine/inventory/pattern.js'
import { InventoryError } from '../../src/engine/inventory/types.js'
import { groupDepths } from '../../src/engine/inventory/graph.js'
import { groupNames, hostVars, varsOrder } from '../../src/engine/inventory/vars.js'
import { buildInventory } from '../helpers/inventory.js'

/** Asserts an InventoryError whose message holds every fragment. */
function throwsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InventoryError, `expected an InventoryError, got ${String(err)}`)
    for (const f of fragments) assert.ok(err.message.includes(f), `expected ${JSON.stringify(err.message)} to include ${JSON.stringify(f)}`)
    return true
  })
}

// all -> ungrouped(lone), prod -> (web: w1 w2, db: d1 w1), stage -> (sweb: s1)
const fleet = () =>
  buildInventory(
    {
      prod: { children: ['web', 'db'] },
      web: { hosts: ['w1', 'w2'] },
      db: { hosts: ['d1', 'w1'] },
      eu: { hosts: ['w2', 'd1'] },
    },
    { lone: {} },
  )

describe('host order (Group.get_hosts)', () => {
  it('is breadth-first over the group tree, not file order: own hosts, children, then deeper', () => {
    // Hosts created in the order c1, b1, a1, but a1 sits one level higher in the tree.
    const inv = buildInventory({
      top: { hosts: ['t1'], children: ['mid'] },
      mid: { children: ['leaf'], hosts: ['m1'] },
      leaf: { hosts: ['c1', 'b1'] },
      side: { hosts: ['a1'] },
    })
    assert.deepEqual(inventoryOrder(inv), ['t1', 'a1', 'm1', 'c1', 'b1'])
    assert.deepEqual(groupHosts(inv, 'top'), ['t1', 'm1', 'c1', 'b1'])
  })

  it('takes a host once, where first met, and ungrouped hosts first (ungrouped is all’s first child)', () => {
    assert.deepEqual(inventoryOrder(fleet()), ['lone', 'w2', 'd1', 'w1'])
    // prod's own walk: web before db.
    assert.deepEqual(groupHosts(fleet(), 'prod'), ['w1', 'w2', 'd1'])
  })

  it('walks a level in the order its groups were reached (where ansible-core iterates a set)', () => {
    const inv = buildInventory({ a: { children: ['a1'] }, b: { children: ['b1'] }, a1: { hosts: ['x'] }, b1: { hosts: ['y'] } })
    assert.deepEqual(
      walkGroups(inv, 'all').map((g) => g.name),
      ['all', 'ungrouped', 'a', 'b', 'a1', 'b1'],
    )
    assert.deepEqual(inventoryOrder(inv), ['x', 'y'])
  })

  it('gives each host its first own group in that walk, never all', () => {
    assert.deepEqual(
      [...firstOwnGroups(fleet())],
      [
        ['lone', 'ungrouped'],
        ['w2', 'eu'],
        ['d1', 'eu'],
        ['w1', 'web'],
      ],
    )
  })
})

describe('vars precedence (sort_groups, combine_vars)', () => {
  it('orders groups by depth, then ansible_group_priority, then name; the last wins; host vars over all', () => {
    const inv = buildInventory(
      {
        all: { vars: { v: 'all', only_all: 1 } },
        parent: { children: ['deep'], vars: { v: 'parent', p: 'parent' } },
        deep: { hosts: ['h'], vars: { v: 'deep' } },
        zed: { hosts: ['h'], vars: { p: 'zed', n: 'zed' } },
        alpha: { hosts: ['h'], vars: { n: 'alpha', q: 'alpha', ansible_group_priority: 5 } },
        beta: { hosts: ['h'], vars: { q: 'beta' } },
      },
      { h: { mine: true, only_all: 2 } },
    )
    assert.deepEqual(varsOrder(inv, 'h'), ['beta', 'parent', 'zed', 'alpha', 'deep'])
    const vars = Object.fromEntries([...hostVars(inv, 'h')].map(([k, v]) => [k, v.value]))
    // deep (depth 2) beats parent; zed beats beta/parent by name; alpha's priority 5 beats zed.
    assert.deepEqual(vars, { v: 'deep', only_all: 2, p: 'zed', n: 'alpha', q: 'alpha', mine: true })
    assert.equal(hostVars(inv, 'h').get('v')!.where, 'deep.v', 'the place the winning value was written')
  })

  it('measures depth as the longest path from all', () => {
    // x is a child of all's child a (depth 2) and of c, three levels down (depth 4).
    const inv = buildInventory({ a: { children: ['x', 'b'] }, b: { children: ['c'] }, c: { children: ['x'] }, x: { hosts: ['h'] } })
    assert.deepEqual(Object.fromEntries(groupDepths(inv)), { all: 0, ungrouped: 1, a: 1, b: 2, c: 3, x: 4 })
  })

  it('replaces a dict whole (hash_behaviour replace), and keeps ansible_group_priority out of the vars', () => {
    const inv = buildInventory({
      a: { hosts: ['h'], vars: { cfg: { x: 1, y: 2 }, ansible_group_priority: '10' } },
      b: { hosts: ['h'], vars: { cfg: { x: 3 } } },
    })
    assert.deepEqual(varsOrder(inv, 'h'), ['b', 'a'], 'priority "10" as Python int() reads it')
    assert.deepEqual(
      [...hostVars(inv, 'h')].map(([k, v]) => [k, v.value]),
      [['cfg', { x: 1, y: 2 }]],
    )
  })

  it('reads priorities as int() does and refuses what int() refuses', () => {
    const order = (p: unknown) => varsOrder(buildInventory({ a: { hosts: ['h'], vars: { ansible_group_priority: p as never } }, b: { hosts: ['h'] } }), 'h')
    assert.deepEqual(order(' +2 '), ['b', 'a'])
    assert.deepEqual(order(1.9), ['a', 'b'], '1.9 truncates to 1, ties with b, then names')
    assert.deepEqual(order(-1), ['a', 'b'])
    assert.deepEqual(order('1_0'), ['b', 'a'])
    throwsWith(() => order('high'), 'a.ansible_group_priority', 'group "a"', '"high"', 'whole number')
    throwsWith(() => order(null), 'whole number')
  })

  it('refuses a group that contains itself', () => {
    const inv = buildInventory({ a: { children: ['b'] }, b: { children: ['c'] }, c: { children: ['b'], hosts: ['h'] } })
    throwsWith(() => groupDepths(inv), 'its own descendant')
  })

  it('group_names: the host’s groups and their ancestors, sorted by code point, without all; ungrouped included', () => {
    const inv = fleet()
    assert.deepEqual(groupNames(inv, 'w1'), ['db', 'prod', 'web'])
    assert.deepEqual(groupNames(inv, 'lone'), ['ungrouped'])
    const cased = buildInventory({ b: { hosts: ['h'] }, B: { hosts: ['h'] }, a: { hosts: ['h'] }, '\u{1F600}': { hosts: ['h'] }, '\uFFFD': { hosts: ['h'] } })
    assert.deepEqual(groupNames(cased, 'h'), ['B', 'a', 'b', '\uFFFD', '\u{1F600}'])
  })
})

describe('selectHosts (InventoryManager.get_hosts)', () => {
  const inv = buildInventory(
    {
      web: { hosts: ['web1', 'web2', 'web3'] },
      db: { hosts: ['db1', 'db2'] },
      eu: { hosts: ['web2', 'db2', 'eu-misc'] },
      canary: { hosts: ['web3'] },
      webapps: { children: ['web'] },
    },
    { xweb9: {}, 'web.example.com': {} },
  )
  const sel = (p: string) => selectHosts(inv, p)

  it('applies all unions first, then every &, then every !, wherever they stand', () => {
    assert.deepEqual(sel('web:&eu'), ['web2'])
    assert.deepEqual(sel('!canary:web'), ['web1', 'web2'])
    assert.deepEqual(sel('&eu,db,!db1,web'), ['db2', 'web2'], 'union db,web, then &eu, then !db1')
    assert.deepEqual(sel('&eu'), ['db2', 'web2', 'eu-misc'], 'only & and !: start from all (and its order)')
    assert.deepEqual(sel('!web'), ['xweb9', 'web.example.com', 'db1', 'db2', 'eu-misc'])
  })

  it('unions keep the order the terms give, each host once', () => {
    assert.deepEqual(sel('db,web,eu'), ['db1', 'db2', 'web1', 'web2', 'web3', 'eu-misc'])
    assert.deepEqual(sel('web3:web'), ['web3', 'web1', 'web2'])
  })

  it('matches * and ? wildcards against group and host names', () => {
    assert.deepEqual(sel('we?'), ['web1', 'web2', 'web3'], 'the group web only: no host is named like that')
    assert.deepEqual(sel('*web*'), ['web1', 'web2', 'web3', 'xweb9', 'web.example.com'], 'groups web and webapps, then hosts by name')
    assert.deepEqual(sel('*'), inventoryOrder(inv), '* matches all first')
    assert.deepEqual(sel('db[!2]'), ['db1'], 'a set: [!2] is no subscript')
    throwsWith(() => sel('db[12]'), '"db[12]"', '2 hosts')
  })

  it('matches ~regex from the start of the name only (re.match)', () => {
    assert.deepEqual(sel('~web'), ['web1', 'web2', 'web3', 'web.example.com'], 'not xweb9, and groups web and webapps')
    assert.deepEqual(sel('~.*web'), ['web1', 'web2', 'web3', 'xweb9', 'web.example.com'])
    assert.deepEqual(sel('~(db|eu)$'), ['db1', 'db2', 'web2', 'eu-misc'])
  })

  it('takes a plain name as a host first, and as a group after & or ! (as ansible-core 2.14 does)', () => {
    const both = buildInventory({ web: { hosts: ['w1', 'w2'] }, x: { hosts: ['web'] } })
    assert.deepEqual(selectHosts(both, 'web'), ['web'])
    assert.deepEqual(selectHosts(both, 'all:&web'), ['w1', 'w2'])
    assert.deepEqual(selectHosts(both, 'all:!web'), ['web'])
  })

  it('a plain name that is a group is not matched against host names; a dotted one is', () => {
    const inv2 = buildInventory({ 'a.b': { hosts: ['h1'] }, db: { hosts: ['d1'] } }, { 'a.b': {}, db: {} })
    assert.deepEqual(selectHosts(inv2, 'all:&db'), ['d1'])
    assert.deepEqual(selectHosts(inv2, 'all:&a.b'), ['a.b', 'h1'], '`.` makes Ansible look at host names too')
  })

  it('subscripts pick from a term’s matches: [i], [-i], [i:j] inclusive, [i:]', () => {
    assert.deepEqual(sel('web[0]'), ['web1'])
    assert.deepEqual(sel('web[-1]'), ['web3'])
    assert.deepEqual(sel('web[1:2]'), ['web2', 'web3'])
    assert.deepEqual(sel('web[1:]'), ['web2', 'web3'])
    assert.deepEqual(evaluatePattern(inv, 'web[2:1]').hosts, [], 'an empty slice, no error')
    assert.deepEqual(sel('web[2:0]'), ['web3'], 'end 0 reads as no end in ansible-core: the single index')
    assert.deepEqual(sel('webapps,web[0]'), ['web1', 'web2', 'web3'])
    assert.deepEqual(sel('*web*[9]'), ['xweb9'], 'counted over the term’s matches, duplicates included: web, webapps, then hosts')
    const s = evaluatePattern(inv, 'web[1-2]')
    assert.deepEqual(s.hosts, ['web2', 'web3'])
    assert.match(s.warnings.join(), /use \[x:y\]/)
    throwsWith(() => sel('web[3]'), '"web[3]"', '3 hosts', '0 to 2', '-3 to -1')
    throwsWith(() => sel('db[-3]'), '"db[-3]"')
    assert.deepEqual(sel('~web[12]'), ['web1', 'web2'], 'no subscript on a regex: [12] is a regex set')
  })

  it('ignores a term that matches nothing, with a warning; fails when nothing at all is selected', () => {
    const s = select(inv, 'nosuch,db')
    assert.deepEqual(s.hosts, ['db1', 'db2'])
    assert.deepEqual(s.warnings, ['host pattern term "nosuch" matches no group or host; it is ignored'])
    throwsWith(() => select(inv, 'web:&db'), '"web:&db"', 'selects no host', 'groups are: ungrouped, web, db, eu, canary, webapps')
    throwsWith(() => select(inv, 'localhost'), 'implicit localhost')
    throwsWith(() => select(buildInventory({}), 'all'), 'no hosts')
    assert.deepEqual(select(inv, 'ungrouped').hosts, ['xweb9', 'web.example.com'])
  })

  it('an empty pattern is all; a bare & or ! is refused', () => {
    assert.deepEqual(sel(''), inventoryOrder(inv))
    assert.deepEqual(sel(' , '), inventoryOrder(inv))
    throwsWith(() => sel('web:!'), '"!"', 'nothing after the !', '!canary')
  })
})

describe('batchByGroup (batch-by: group)', () => {
  const inv = buildInventory({
    prod: { children: ['web', 'db'] },
    web: { hosts: ['w1', 'w2', 'w3'] },
    db: { hosts: ['d1', 'd2'] },
    canary: { hosts: ['w3', 'd2'] },
    eu: { hosts: ['w2', 'd1'] },
    misc: { hosts: ['m1'] },
  })
  const batches = (pattern: string, selected = selectHosts(inv, pattern)) => batchByGroup(inv, pattern, selected).map((b) => `${b.group}: ${b.hosts.join(' ')}`)

  it('for all: every group in inventory order, a host with the first; end to end they are Ansible’s host order', () => {
    const all = batches('all')
    assert.deepEqual(all, ['canary: w3 d2', 'eu: w2 d1', 'misc: m1', 'web: w1'])
    assert.deepEqual(
      batchByGroup(inv, 'all', selectHosts(inv, 'all')).flatMap((b) => b.hosts),
      selectHosts(inv, 'all'),
    )
  })

  it('in the order the pattern names the groups; a parent group gives its groups; & and ! only filter', () => {
    assert.deepEqual(batches('canary,web,db'), ['canary: w3 d2', 'web: w1 w2', 'db: d1'])
    assert.deepEqual(batches('db:web'), ['db: d1 d2', 'web: w1 w2 w3'])
    assert.deepEqual(batches('prod'), ['web: w1 w2 w3', 'db: d1 d2'])
    assert.deepEqual(batches('prod:&eu'), ['web: w2', 'db: d1'])
    assert.deepEqual(batches('!canary'), ['eu: w2 d1', 'misc: m1', 'web: w1'])
  })

  it('a host named alone goes with its first own group, where the pattern names it', () => {
    assert.deepEqual(batches('m1,w1,db'), ['misc: m1', 'web: w1', 'db: d1 d2'])
    assert.deepEqual(batches('w1,web'), ['web: w1 w2 w3'], 'joins its group’s batch')
    assert.deepEqual(batches('~w[12]'), ['web: w1', 'eu: w2'], 'regex host matches: w2’s first own group is eu')
  })

  it('wildcards give the matched groups in inventory order; subscripts claim only their own hosts', () => {
    assert.deepEqual(batches('*b'), ['web: w1 w2 w3', 'db: d1 d2'])
    assert.deepEqual(batches('web[0],canary'), ['web: w1', 'canary: w3 d2'])
  })

  it('keeps the order of the hosts it is given (a shard) and leaves out groups with none', () => {
    assert.deepEqual(batches('web,db', ['d2', 'w3', 'd1']), ['web: w3', 'db: d2 d1'])
    assert.deepEqual(batches('web', ['m1']), ['misc: m1'], 'a host the pattern does not name: its first own group')
  })
})
