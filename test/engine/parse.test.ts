import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  describeThreshold,
  MAX_DURATION_MS,
  parseBoolean,
  parseDuration,
  parsePositiveInt,
  parseSize,
  parseThreshold,
  quote,
  thresholdExceeded,
  toleratedFailures,
  type Threshold,
} from '../../src/engine/parse.js'

/** Asserts that `fn` throws an Error whose message contains every fragment. */
function throwsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error)
    for (const fragment of fragments) {
      assert.ok(err.message.includes(fragment), `expected ${JSON.stringify(err.message)} to include ${JSON.stringify(fragment)}`)
    }
    assert.doesNotMatch(err.message, /\n\s+at /)
    return true
  })
}

describe('parseDuration', () => {
  const cases: Array<[string, number]> = [
    ['45', 45_000],
    ['0', 0],
    ['1.5', 1500],
    ['45s', 45_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s', 3_723_000],
    ['1h30m', 5_400_000],
    ['2h500ms', 7_200_500],
    ['1m500ms', 60_500],
    ['500ms', 500],
    ['1.5s', 1500],
    ['0.0015s', 2],
    ['1.5m', 90_000],
    ['0.5h', 1_800_000],
    ['  45s\n', 45_000],
    ['5M', 300_000],
    ['1H2M3S', 3_723_000],
    ['500MS', 500],
    ['10Ms', 10],
  ]
  for (const [text, ms] of cases) {
    it(`${JSON.stringify(text)} -> ${ms} ms`, () => assert.equal(parseDuration(text), ms))
  }

  const rejected = ['soon', '', '   ', '-5', '1.5.3', '5x', '30s1m', '1s1s', '1m1m', '1ms5s', '1.5ms', '1 m', 's', '.5s', '5s ms', '1e3', '+5']
  for (const text of rejected) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      throwsWith(() => parseDuration(text), `"${text.trim()}" is not a duration`, 'use seconds (45)', 'h, m, s, ms', '45s, 5m, 1h, 1m30s')
    })
  }

  it('rejects absurdly long durations', () => {
    throwsWith(() => parseDuration('99999999999999999999h'), 'too long')
  })

  it('accepts up to 2^31 - 1 ms, the longest a Node.js timer waits (longer ones fire after 1 ms)', () => {
    assert.equal(MAX_DURATION_MS, 2_147_483_647)
    assert.equal(parseDuration('596h'), 596 * 3_600_000)
    assert.equal(parseDuration('596h31m23s647ms'), MAX_DURATION_MS)
    assert.equal(parseDuration('2147483.647s'), MAX_DURATION_MS)
  })

  for (const text of ['600h', '596h31m23s648ms', '2147483648ms', '2147484', '25000h']) {
    it(`rejects ${text}: more than Node.js timers can wait`, () => {
      throwsWith(() => parseDuration(text), `"${text}" is too long a duration`, 'at most 24 days (596h)')
    })
  }

  it('Node.js takes the longest accepted duration as a timer delay without clamping it (no TimeoutOverflowWarning)', async () => {
    const overflowWarnings = async (delay: number): Promise<number> => {
      let count = 0
      const onWarning = (w: Error) => {
        if (w.name === 'TimeoutOverflowWarning') count++
      }
      process.on('warning', onWarning)
      clearTimeout(setTimeout(() => {}, delay))
      await new Promise((resolve) => setImmediate(resolve))
      process.off('warning', onWarning)
      return count
    }
    assert.equal(await overflowWarnings(MAX_DURATION_MS + 1), 1, 'control: one more millisecond is clamped')
    assert.equal(await overflowWarnings(parseDuration('596h31m23s647ms')), 0)
  })
})

describe('quote', () => {
  it('quotes short text whole', () => {
    assert.equal(quote('web1'), '"web1"')
    assert.equal(quote('x'.repeat(40)), `"${'x'.repeat(40)}"`)
  })

  it('cuts long text to 40 characters and gives its length', () => {
    assert.equal(quote('x'.repeat(41)), `"${'x'.repeat(40)}…" (41 characters)`)
    assert.equal(quote('😀'.repeat(100)), `"${'😀'.repeat(40)}…" (200 characters)`)
  })

  it('keeps every parser error short whatever the input size', () => {
    const huge = '9'.repeat(1_000_000) + 'x'
    for (const parse of [parseDuration, (t: string) => parsePositiveInt(t, 0), parseThreshold, parseSize, parseBoolean]) {
      assert.throws(
        () => parse(huge),
        (err: Error) => err.message.length < 400 && err.message.includes('(1000001 characters)'),
      )
    }
  })
})

describe('parsePositiveInt', () => {
  it('accepts whole numbers at or above min', () => {
    assert.equal(parsePositiveInt('1', 1), 1)
    assert.equal(parsePositiveInt(' 20 ', 1), 20)
    assert.equal(parsePositiveInt('0', 0), 0)
    assert.equal(parsePositiveInt('007', 1), 7)
  })

  for (const [text, min] of [
    ['abc', 1],
    ['0', 1],
    ['1.5', 1],
    ['10x', 1],
    ['', 1],
    ['-3', 0],
    ['4', 5],
    ['1e3', 1],
    ['99999999999999999999', 1],
  ] as const) {
    it(`rejects ${JSON.stringify(text)} with min ${min}`, () => {
      throwsWith(() => parsePositiveInt(text, min), `"${text}"`, `a whole number ≥ ${min}`)
    })
  }

  it('with a max, accepts min..max and says the range otherwise', () => {
    assert.equal(parsePositiveInt('10', 0, 10), 10)
    assert.equal(parsePositiveInt('0', 0, 10), 0)
    throwsWith(() => parsePositiveInt('11', 0, 10), '"11" is not a whole number from 0 to 10', 'use a whole number from 0 to 10')
    throwsWith(() => parsePositiveInt('x', 0, 10), 'from 0 to 10')
  })
})

describe('parseThreshold', () => {
  it('accepts counts and percentages', () => {
    assert.deepEqual(parseThreshold('0'), { kind: 'count', value: 0 })
    assert.deepEqual(parseThreshold('2'), { kind: 'count', value: 2 })
    assert.deepEqual(parseThreshold(' 10% '), { kind: 'percent', value: 10 })
    assert.deepEqual(parseThreshold('12.5%'), { kind: 'percent', value: 12.5 })
    assert.deepEqual(parseThreshold('0%'), { kind: 'percent', value: 0 })
    assert.deepEqual(parseThreshold('100%'), { kind: 'percent', value: 100 })
  })

  for (const text of ['lots', '-1', '', '1.5', '10 %', '%', '-5%', '1e2%']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      throwsWith(() => parseThreshold(text), `"${text}" is not a number of hosts or a percentage`, '(0, 2)', '(10%, 12.5%)')
    })
  }

  it('rejects more than 100%', () => {
    throwsWith(() => parseThreshold('150%'), '"150%" is more than 100%', '0% to 100%')
    throwsWith(() => parseThreshold('100.5%'), 'more than 100%')
  })
})

describe('thresholdExceeded', () => {
  const count = (value: number): Threshold => ({ kind: 'count', value })
  const percent = (value: number): Threshold => ({ kind: 'percent', value })

  it('counts: exceeded only when failures are strictly more', () => {
    assert.equal(thresholdExceeded(count(0), 0, 10), false)
    assert.equal(thresholdExceeded(count(0), 1, 10), true)
    assert.equal(thresholdExceeded(count(2), 2, 10), false)
    assert.equal(thresholdExceeded(count(2), 3, 10), true)
  })

  it('percent: compares failures * 100 > value * total', () => {
    assert.equal(thresholdExceeded(percent(10), 4, 40), false)
    assert.equal(thresholdExceeded(percent(10), 5, 40), true)
    assert.equal(thresholdExceeded(percent(10), 1, 5), true) // 10% of 5 is 0.5, so 1 failure is too many
    assert.equal(thresholdExceeded(percent(10), 0, 5), false)
    assert.equal(thresholdExceeded(percent(12.5), 5, 40), false)
    assert.equal(thresholdExceeded(percent(12.5), 6, 40), true)
    assert.equal(thresholdExceeded(percent(0), 0, 40), false)
    assert.equal(thresholdExceeded(percent(0), 1, 40), true)
    assert.equal(thresholdExceeded(percent(100), 40, 40), false)
    assert.equal(thresholdExceeded(percent(33.3), 1, 3), true)
    assert.equal(thresholdExceeded(percent(50), 0, 0), false)
  })

  it('percent: exact where floating point would round the wrong way', () => {
    // 1.14 * 5000 is 5699.999999999999 in floating point; exactly it is 5700, so 57 failures are tolerated.
    assert.ok(1.14 * 5000 < 5700)
    assert.equal(thresholdExceeded(percent(1.14), 57, 5000), false)
    assert.equal(thresholdExceeded(percent(1.14), 58, 5000), true)
    assert.equal(toleratedFailures(percent(1.14), 5000), 57)
    assert.equal(describeThreshold(percent(1.14), 5000), '1.14% of 5000 hosts (57)')
  })

  it('agrees with exact rational arithmetic on a grid of cases', () => {
    for (let hundredths = 0; hundredths <= 10000; hundredths += 7) {
      const value = hundredths / 100
      for (const total of [1, 3, 7, 40, 100, 2000, 5000, 9999]) {
        const exactTolerated = Number(BigInt(hundredths * total) / 10000n)
        for (const failures of [0, exactTolerated, exactTolerated + 1, total]) {
          const expected = BigInt(failures) * 10000n > BigInt(hundredths) * BigInt(total)
          assert.equal(thresholdExceeded(percent(value), failures, total), expected, `${value}% ${failures}/${total}`)
        }
      }
    }
  })

  it('handles tiny percentages written in exponent form', () => {
    assert.equal(toleratedFailures(percent(1e-7), 10 ** 10), 10)
  })
})

describe('describeThreshold', () => {
  it('shows counts as the number', () => {
    assert.equal(describeThreshold({ kind: 'count', value: 2 }, 40), '2')
  })

  it('shows percent with total and floored count', () => {
    assert.equal(describeThreshold({ kind: 'percent', value: 10 }, 40), '10% of 40 hosts (4)')
    assert.equal(describeThreshold({ kind: 'percent', value: 12.5 }, 10), '12.5% of 10 hosts (1)')
    assert.equal(describeThreshold({ kind: 'percent', value: 50 }, 1), '50% of 1 host (0)')
  })
})

describe('parseSize', () => {
  const cases: Array<[string, number]> = [
    ['1048576', 1_048_576],
    ['1', 1],
    ['512KB', 524_288],
    ['512kb', 524_288],
    ['512kB', 524_288],
    ['512K', 524_288],
    ['10MB', 10_485_760],
    ['10mb', 10_485_760],
    ['10MiB', 10_485_760],
    ['10 MB', 10_485_760],
    ['1GB', 1_073_741_824],
    ['1gib', 1_073_741_824],
    ['1.5MB', 1_572_864],
    ['100B', 100],
    [' 2KiB ', 2048],
  ]
  for (const [text, bytes] of cases) {
    it(`${JSON.stringify(text)} -> ${bytes}`, () => assert.equal(parseSize(text), bytes))
  }

  for (const text of ['big', '', '-1', '10XB', '1.5', 'MB', '1TB', '10 M B', '1.2.3KB', '10constructor']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      throwsWith(() => parseSize(text), `"${text.trim()}" is not a size`, '(1048576)', '512KB, 10MB, 1GB', '1 KB = 1024 bytes')
    })
  }

  it('rejects sizes below 1 byte', () => {
    throwsWith(() => parseSize('0'), '"0" is less than 1 byte', '512KB')
    throwsWith(() => parseSize('0KB'), 'less than 1 byte')
    throwsWith(() => parseSize('0.0001KB'), 'less than 1 byte')
  })

  it('rejects sizes too large to count exactly', () => {
    throwsWith(() => parseSize('99999999999GB'), 'too large')
  })
})

describe('parseBoolean', () => {
  for (const text of ['true', 'True', 'TRUE', ' true ']) {
    it(`${JSON.stringify(text)} -> true`, () => assert.equal(parseBoolean(text), true))
  }
  for (const text of ['false', 'False', 'FALSE']) {
    it(`${JSON.stringify(text)} -> false`, () => assert.equal(parseBoolean(text), false))
  }
  for (const text of ['yes', 'no', 'tRUE', '1', '0', 'on', '']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      throwsWith(() => parseBoolean(text), `"${text}" is not a boolean`, 'true or false', 'True, TRUE, False and FALSE')
    })
  }
})
