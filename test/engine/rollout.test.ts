import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  batchSize,
  describeShard,
  MAX_SHARDS,
  parseBatchSize,
  parseShard,
  planBatches,
  shardBounds,
  shardSlice,
  type BatchSpec,
  type Shard,
} from '../../src/engine/targets/rollout.js'

/** Asserts that `fn` throws an Error whose message contains every fragment, without naming the input. */
function throwsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error)
    for (const fragment of fragments) {
      assert.ok(err.message.includes(fragment), `expected ${JSON.stringify(err.message)} to include ${JSON.stringify(fragment)}`)
    }
    assert.doesNotMatch(err.message, /\n\s+at /)
    assert.doesNotMatch(err.message, /batch-size|input/i, 'the caller names the input')
    return true
  })
}

const count = (value: number) => ({ kind: 'count', value }) as const
const percent = (exact: string) => ({ kind: 'percent', value: Number(exact), exact }) as const
const spec = (text: string): BatchSpec | null => parseBatchSize(text)

describe('parseBatchSize: accepted forms', () => {
  const cases: Array<[string, BatchSpec | null]> = [
    ['', null],
    ['   \n', null],
    ['5', { items: [count(5)] }],
    [' 5 ', { items: [count(5)] }],
    ['05', { items: [count(5)] }],
    ['1', { items: [count(1)] }],
    ['25%', { items: [percent('25')] }],
    ['12.5%', { items: [percent('12.5')] }],
    ['100%', { items: [percent('100')] }],
    ['100.0%', { items: [percent('100.0')] }],
    ['0.01%', { items: [percent('0.01')] }],
    ['1, 10%, 50%', { items: [count(1), percent('10'), percent('50')] }],
    ['1,10%,50%', { items: [count(1), percent('10'), percent('50')] }],
    [' 2 ,\t3 , 25% ', { items: [count(2), count(3), percent('25')] }],
  ]
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)}`, () => assert.deepEqual(parseBatchSize(text), expected))
  }
})

describe('parseBatchSize: rejected values show the accepted forms', () => {
  const forms = ['use a number of hosts (5)', '25%', '(1, 10%, 50%)']
  const cases: Array<[string, string]> = [
    ['0', '"0" is not a batch size: a batch needs at least 1 host'],
    ['00', '"00" is not a batch size: a batch needs at least 1 host'],
    ['0%', '"0%" is not a batch size: a percentage must be more than 0%'],
    ['0.0%', '"0.0%" is not a batch size: a percentage must be more than 0%'],
    ['101%', '"101%" is more than 100%'],
    ['100.01%', '"100.01%" is more than 100%'],
    ['-1', '"-1" is not a number of hosts or a percentage'],
    ['+2', '"+2" is not a number of hosts or a percentage'],
    ['1.5', '"1.5" is not a whole number of hosts'],
    ['1e3', '"1e3" is not a number of hosts or a percentage'],
    ['ten', '"ten" is not a number of hosts or a percentage'],
    ['25 %', '"25 %" is not one batch size (separate the items of a ramp with commas)'],
    ['1 10% 50%', '"1 10% 50%" is not one batch size (separate the items of a ramp with commas)'],
    ['%', '"%" is not a number of hosts or a percentage'],
    ['.5%', '".5%" is not a number of hosts or a percentage'],
    ['99999999999999999999', '"99999999999999999999" is too large a number of hosts'],
    ['1,,2', '"1,,2" has an empty item between commas'],
    ['1, 10%,', '"1, 10%," has an empty item between commas'],
    [',5', '",5" has an empty item between commas'],
    ['1, 0%, 50%', '"0%" (item 2 of "1, 0%, 50%") is not a batch size: a percentage must be more than 0%'],
    ['1, 10%, 0', '"0" (item 3 of "1, 10%, 0") is not a batch size: a batch needs at least 1 host'],
  ]
  for (const [text, message] of cases) {
    it(`rejects ${JSON.stringify(text)}`, () => throwsWith(() => parseBatchSize(text), message, ...forms))
  }
})

describe('planBatches', () => {
  const cases: Array<[string, number, number[]]> = [
    ['', 10, [10]],
    ['', 1, [1]],
    ['', 0, []],
    ['5', 0, []],
    ['5', 12, [5, 5, 2]],
    ['5', 5, [5]],
    ['5', 3, [3]],
    ['1', 3, [1, 1, 1]],
    ['25%', 10, [3, 3, 3, 1]],
    ['25%', 8, [2, 2, 2, 2]],
    ['10%', 30, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]],
    ['100%', 7, [7]],
    ['1%', 7, [1, 1, 1, 1, 1, 1, 1]],
    ['0.01%', 5, [1, 1, 1, 1, 1]],
    ['50%', 1, [1]],
    ['1, 10%, 50%', 40, [1, 4, 20, 15]],
    ['1, 10%, 50%', 100, [1, 10, 50, 39]],
    ['1, 10%, 50%', 2, [1, 1]],
    ['1, 2, 3', 3, [1, 2]],
    ['1, 2, 3', 20, [1, 2, 3, 3, 3, 3, 3, 2]],
    ['2, 1', 5, [2, 1, 1, 1]],
  ]
  for (const [text, total, expected] of cases) {
    it(`${JSON.stringify(text)} over ${total} hosts -> ${JSON.stringify(expected)}`, () => assert.deepEqual(planBatches(spec(text), total), expected))
  }

  it('rounds percentages up exactly on the decimal digits, not on floats', () => {
    // 0.07 * 100 / 100 = 7.000000000000001 in floating point, whose ceiling would be 8.
    assert.equal(batchSize(percent('0.07'), 10_000), 7)
    assert.equal(batchSize(percent('10'), 30), 3)
    assert.equal(batchSize(percent('12.5'), 8), 1)
    assert.equal(batchSize(percent('12.5'), 9), 2)
    assert.equal(batchSize(percent('33.3'), 1000), 333)
    assert.equal(batchSize(percent('1.1'), 100), 2)
    assert.equal(batchSize(percent('1.14'), 5000), 57)
    assert.equal(batchSize(percent('0.001'), 1), 1)
  })

  it('refuses a total that is not a whole number ≥ 0', () => {
    assert.throws(() => planBatches(null, -1), /whole number/)
    assert.throws(() => planBatches(null, 1.5), /whole number/)
  })

  it('property: batches sum to the total, each is ≥ 1, and follow the ramp with the last item repeating', () => {
    const item = fc.oneof(
      fc.integer({ min: 1, max: 700 }).map((v) => `${v}`),
      fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 99 })).map(([i, f]) => `${i}.${String(f).padStart(2, '0')}%`),
    )
    const validItem = item.filter((t) => !/^0\.00%$|^100\.(?!00)/.test(t))
    fc.assert(
      fc.property(fc.array(validItem, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 600 }), (items, total) => {
        const parsed = parseBatchSize(items.join(', '))
        assert.ok(parsed !== null)
        const batches = planBatches(parsed, total)
        assert.equal(
          batches.reduce((a, b) => a + b, 0),
          total,
        )
        for (const [k, size] of batches.entries()) {
          assert.ok(size >= 1)
          const wanted = batchSize(parsed.items[Math.min(k, parsed.items.length - 1)], total)
          if (k < batches.length - 1) assert.equal(size, wanted, `batch ${k + 1} of ${JSON.stringify(batches)}`)
          else assert.ok(size <= wanted)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('property: a percentage p of N hosts is the least whole number ≥ p·N/100 (and ≥ 1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 5000 }), (hundredths, total) => {
        const exact = `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`
        const size = batchSize(percent(exact), total)
        // In integers: size·10000 ≥ hundredths·total > (size-1)·10000.
        assert.ok(size * 10_000 >= hundredths * total)
        assert.ok((size - 1) * 10_000 < hundredths * total)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('parseShard', () => {
  const accepted: Array<[string, Shard | null]> = [
    ['', null],
    ['  ', null],
    ['1/1', { index: 1, count: 1 }],
    ['2/4', { index: 2, count: 4 }],
    ['4/4', { index: 4, count: 4 }],
    [' 3/7\n', { index: 3, count: 7 }],
    ['1 / 4', { index: 1, count: 4 }],
    ['02/04', { index: 2, count: 4 }],
    [`${MAX_SHARDS}/${MAX_SHARDS}`, { index: MAX_SHARDS, count: MAX_SHARDS }],
  ]
  for (const [text, expected] of accepted) {
    it(`${JSON.stringify(text)}`, () => assert.deepEqual(parseShard(text), expected))
  }

  const form = ['write i/n with whole numbers 1 ≤ i ≤ n', 'e.g. 2/4']
  const rejected: Array<[string, string]> = [
    ['0/3', '"0/3": there is no shard 0 of 3, they are numbered 1 to 3'],
    ['4/3', '"4/3": there is no shard 4 of 3, they are numbered 1 to 3'],
    ['1/0', '"1/0" asks for 0 shards'],
    ['0/0', '"0/0" asks for 0 shards'],
    ['-1/2', '"-1/2" is not a shard'],
    ['1.5/2', '"1.5/2" is not a shard'],
    ['1/2.0', '"1/2.0" is not a shard'],
    ['2', '"2" is not a shard'],
    ['1/', '"1/" is not a shard'],
    ['/4', '"/4" is not a shard'],
    ['1/2/3', '"1/2/3" is not a shard'],
    ['a/b', '"a/b" is not a shard'],
    ['1 of 4', '"1 of 4" is not a shard'],
    ['1/257', `"1/257" asks for more than ${MAX_SHARDS} shards`],
    ['99999999999999999999/3', 'there is no shard'],
  ]
  for (const [text, message] of rejected) {
    it(`rejects ${JSON.stringify(text)}`, () => throwsWith(() => parseShard(text), message, ...form))
  }
})

describe('shardSlice', () => {
  const hosts = Array.from({ length: 10 }, (_, i) => `h${i + 1}`)

  it('returns a copy of all items without a shard', () => {
    const all = shardSlice(hosts, null)
    assert.deepEqual(all, hosts)
    assert.notEqual(all, hosts)
  })

  it('cuts contiguous slices [floor((i-1)N/n), floor(iN/n))', () => {
    assert.deepEqual(shardSlice(hosts, { index: 1, count: 3 }), ['h1', 'h2', 'h3'])
    assert.deepEqual(shardSlice(hosts, { index: 2, count: 3 }), ['h4', 'h5', 'h6'])
    assert.deepEqual(shardSlice(hosts, { index: 3, count: 3 }), ['h7', 'h8', 'h9', 'h10'])
    assert.deepEqual(shardSlice(hosts, { index: 1, count: 1 }), hosts)
  })

  it('gives an empty shard when there are more shards than hosts', () => {
    const three = ['a', 'b', 'c']
    const slices = [1, 2, 3, 4, 5].map((index) => shardSlice(three, { index, count: 5 }))
    assert.deepEqual(slices, [[], ['a'], [], ['b'], ['c']])
    assert.deepEqual(shardSlice([], { index: 1, count: 2 }), [])
  })

  it('describes the slice for the log', () => {
    assert.equal(describeShard({ index: 2, count: 4 }, 40), 'shard 2/4: hosts 11-20 of 40')
    assert.equal(describeShard({ index: 4, count: 5 }, 3), 'shard 4/5: host 2 of 3')
    assert.equal(describeShard({ index: 1, count: 5 }, 3), 'shard 1/5: no hosts (5 shards over 3 hosts)')
    assert.equal(describeShard({ index: 1, count: 2 }, 1), 'shard 1/2: no hosts (2 shards over 1 host)')
  })

  it('property: shards are disjoint, complete in order, within one of each other in size, and stable', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: 50 }), (total, n) => {
        const items = Array.from({ length: total }, (_, i) => `host${i}`)
        const shards = Array.from({ length: n }, (_, i) => shardSlice(items, { index: i + 1, count: n }))
        assert.deepEqual(shards.flat(), items, 'in order, each item exactly once')
        const sizes = shards.map((s) => s.length)
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${JSON.stringify(sizes)}`)
        for (let i = 0; i < n; i++) {
          const shard = { index: i + 1, count: n }
          assert.deepEqual(shardSlice([...items], shard), shards[i], 'same list and shard, same hosts')
          const { start, end } = shardBounds(shard, total)
          assert.deepEqual(shards[i], items.slice(start, end))
        }
      }),
      { numRuns: 300 },
    )
  })
})
