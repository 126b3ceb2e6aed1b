import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { backoffDelay, MAX_BACKOFF_MS, MAX_RETRIES } from '../../src/engine/fanout/fanout.js'

describe('backoffDelay', () => {
  const low = () => 0
  const mid = () => 0.5
  const high = () => 0.999999

  it('doubles from the base delay, with ±50% jitter', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => backoffDelay(a, 1_000, mid)),
      [1_000, 2_000, 4_000, 8_000],
    )
    assert.equal(backoffDelay(1, 1_000, low), 500)
    assert.equal(backoffDelay(1, 1_000, high), 1_500)
  })

  it('never waits more than 30 s, however many attempts', () => {
    assert.equal(MAX_BACKOFF_MS, 30_000)
    for (let attempt = 1; attempt <= 40; attempt++) {
      assert.ok(backoffDelay(attempt, 1_000, high) <= MAX_BACKOFF_MS, `attempt ${attempt}: ${backoffDelay(attempt, 1_000, high)} ms`)
    }
    assert.equal(backoffDelay(10, 1_000, mid), 20_000, 'about 20 s once capped')
  })

  it('keeps the jitter once capped, so a fleet does not retry in lockstep', () => {
    assert.equal(backoffDelay(10, 1_000, low), 10_000)
    assert.equal(backoffDelay(10, 1_000, high), 30_000)
  })

  it('waits at most about 3.5 minutes in all for the largest retries allowed', () => {
    assert.equal(MAX_RETRIES, 10)
    let total = 0
    for (let attempt = 1; attempt <= MAX_RETRIES; attempt++) total += backoffDelay(attempt, 1_000, high)
    assert.ok(total <= 200_000, `${total} ms`)
  })
})
