import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { formatSeconds } from '../../src/engine/format.js'

/** The milliseconds a formatted duration stands for, or null when the text is not a well-formed duration. */
function parse(text: string): number | null {
  let m = /^(\d+) ms$/.exec(text)
  if (m) return Number(m[1])
  m = /^(\d+(?:\.\d)?) s$/.exec(text)
  if (m) return Number(m[1]) < 60 ? Number(m[1]) * 1000 : null
  m = /^(\d+) min(?: (\d+) s)?$/.exec(text)
  if (m) {
    const s = m[2] === undefined ? 0 : Number(m[2])
    return (s >= 1 && s < 60) || m[2] === undefined ? Number(m[1]) * 60_000 + s * 1000 : null
  }
  return null
}

describe('formatSeconds', () => {
  it('never prints 60 seconds: 119 600 ms is 2 min, 59 960 ms is 1 min', () => {
    assert.equal(formatSeconds(119_600), '2 min')
    assert.equal(formatSeconds(59_960), '1 min')
    assert.equal(formatSeconds(89_400), '1 min 29 s')
    assert.equal(formatSeconds(59_940), '59.9 s')
    assert.equal(formatSeconds(999), '999 ms')
    assert.equal(formatSeconds(1000), '1 s')
    assert.equal(formatSeconds(1050), '1.1 s')
  })

  it('is well formed (seconds below 60) and within half a second of the input, for any duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 48 * 3600_000 }), (ms) => {
        const text = formatSeconds(ms)
        const back = parse(text)
        assert.ok(back !== null, `${ms} ms printed as "${text}"`)
        assert.ok(Math.abs(back - ms) <= 500, `${ms} ms printed as "${text}"`)
      }),
      { numRuns: 5000, examples: [[119_600], [59_950], [59_999], [60_000], [3_599_500], [999]] },
    )
  })
})
