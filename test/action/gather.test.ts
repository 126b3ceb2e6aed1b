import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { gatherKey, gatherRows } from '../../src/action/results/gather.js'
import type { HostStatus } from '../../src/engine/model.js'

describe('gatherRows', () => {
  it('groups equal keys in order of first appearance, items in input order', () => {
    const rows = ['a1', 'b1', 'a2', 'c1', 'b2', 'a3']
    assert.deepEqual(
      gatherRows(rows, (r) => r[0]),
      [
        { key: 'a', items: ['a1', 'a2', 'a3'] },
        { key: 'b', items: ['b1', 'b2'] },
        { key: 'c', items: ['c1'] },
      ],
    )
  })

  it('gives no groups for no items and one group per item when all keys differ', () => {
    assert.deepEqual(gatherRows([], String), [])
    assert.deepEqual(gatherRows([3, 1, 2], String), [
      { key: '3', items: [3] },
      { key: '1', items: [1] },
      { key: '2', items: [2] },
    ])
  })

  it('calls the key function once per item', () => {
    let calls = 0
    gatherRows([1, 2, 3, 1], (n) => {
      calls++
      return String(n)
    })
    assert.equal(calls, 4)
  })

  it('property: groups partition the items, keys are distinct and match their items, order is stable', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer())), (items) => {
        const key = ([k]: [number, number]) => `k${k}`
        const groups = gatherRows(items, key)
        assert.equal(new Set(groups.map((g) => g.key)).size, groups.length)
        for (const g of groups) for (const item of g.items) assert.equal(key(item), g.key)
        assert.deepEqual(groups.flatMap((g) => g.items).sort(), [...items].sort())
        const firsts = groups.map((g) => items.indexOf(g.items[0]))
        assert.deepEqual(
          firsts,
          [...firsts].sort((a, b) => a - b),
          'groups in order of first appearance',
        )
        for (const g of groups)
          assert.deepEqual(
            g.items,
            items.filter((i) => key(i) === g.key),
            'items in input order',
          )
      }),
      { numRuns: 300 },
    )
  })
})

describe('gatherKey', () => {
  const key = gatherKey

  it('is equal for equal results', () => {
    assert.equal(key('failed', 1, null, ['x', 'y'], 'boom'), key('failed', 1, null, ['x', 'y'], 'boom'))
  })

  it('differs when any part differs', () => {
    const ref = key('failed', 1, null, ['out'], null)
    const variants = [
      key('error', 1, null, ['out'], null),
      key('failed', 2, null, ['out'], null),
      key('failed', null, null, ['out'], null),
      key('failed', 1, 'SIGTERM', ['out'], null),
      key('failed', 1, null, ['out', ''], null),
      key('failed', 1, null, [], null),
      key('failed', 1, null, ['out'], 'boom'),
      key('failed', 1, null, ['out'], ''),
    ]
    for (const v of variants) assert.notEqual(v, ref)
    assert.equal(new Set(variants).size, variants.length)
  })

  it('does not collide when separators or nulls hide inside strings', () => {
    assert.notEqual(key('failed', 1, null, ['a,b'], null), key('failed', 1, null, ['a', 'b'], null))
    assert.notEqual(key('failed', 1, null, ['a\nb'], null), key('failed', 1, null, ['a', 'b'], null))
    assert.notEqual(key('failed', 1, null, ['a"', 'b'], null), key('failed', 1, null, ['a', '"b'], null))
    assert.notEqual(key('error', null, null, [], 'null'), key('error', null, null, [], null))
    assert.notEqual(key('error', null, 'null', [], null), key('error', null, null, [], null))
    assert.notEqual(key('failed', 1, null, ['x'], '1'), key('failed', 1, '1', ['x'], null))
  })

  it('property: two keys are equal exactly when all parts are equal', () => {
    const status = fc.constantFrom<HostStatus>('success', 'failed', 'error', 'timeout', 'skipped', 'cancelled')
    const small = fc.constantFrom('', 'a', 'b', ',', '"', '\\', 'null', '\n', '],[')
    const str = fc.oneof(small, fc.string({ maxLength: 4 }))
    const parts = fc.tuple(status, fc.option(fc.integer({ min: 0, max: 2 })), fc.option(small), fc.array(str, { maxLength: 3 }), fc.option(small))
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        assert.equal(gatherKey(...a) === gatherKey(...b), isDeepStrictEqual(a, b))
      }),
      { numRuns: 2000 },
    )
  })
})
