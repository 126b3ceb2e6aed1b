/** Hosts that never start: the batch they keep, and what they end with when the jump host cannot be had. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TransportError, type Link, type Transport } from '../../src/engine/ssh/transport.js'
import { runEngine, target } from '../helpers/engine.js'

/** A transport that never reaches a host: every stream is refused, or (`bastionDown`) the bastion cannot be had. */
class NoWay implements Transport {
  failed: TransportError | null = null
  opened = 0
  constructor(private readonly bastionDown: boolean) {}
  ready(): Promise<void> {
    if (!this.bastionDown) return Promise.resolve()
    this.failed ??= new TransportError(
      'jump host',
      'jump host bastion:2222 unavailable: refused: nothing accepts connections on that port (ECONNREFUSED)',
      false,
    )
    return Promise.reject(this.failed)
  }
  open(): Promise<Link> {
    this.opened += 1
    return Promise.reject(new TransportError('refused', 'refused: nothing accepts connections on that port (ECONNREFUSED)', false))
  }
  close(): void {}
}

const targets = (n: number) => Array.from({ length: n }, (_, i) => target(`10.0.0.${i + 1}`, 22))

describe('hosts that never start', () => {
  it('hosts skipped because an earlier batch failed keep the batch they were planned in', async () => {
    const run = await runEngine(targets(5), { batches: [1, 2, 2], transport: new NoWay(false) })
    assert.deepEqual(
      run.results.map((r) => [r.status, r.batch]),
      [
        ['error', 1],
        ['skipped', 2],
        ['skipped', 2],
        ['skipped', 3],
        ['skipped', 3],
      ],
    )
  })

  it('hosts skipped by fail-fast keep their batch too', async () => {
    const run = await runEngine(targets(4), { batches: [4], concurrency: 1, failFast: true, transport: new NoWay(false) })
    assert.deepEqual(
      run.results.map((r) => [r.status, r.batch]),
      [
        ['error', 1],
        ['skipped', 1],
        ['skipped', 1],
        ['skipped', 1],
      ],
    )
  })

  it('a jump host that cannot be had ends every host error naming it, also those fail-fast or a failed batch would skip', async () => {
    for (const overrides of [{ failFast: true, concurrency: 2 }, { batches: [1, 2, 2] }]) {
      const transport = new NoWay(true)
      const run = await runEngine(targets(5), { ...overrides, transport })
      for (const r of run.results) {
        assert.equal(r.status, 'error', JSON.stringify(overrides))
        assert.equal(r.errorKind, 'jump host')
        assert.equal(r.attempts, 0)
        assert.match(r.error!, /^jump host bastion:2222 unavailable: refused/)
      }
      assert.deepEqual(
        run.results.map((r) => r.batch),
        'batches' in overrides ? [1, 2, 2, 3, 3] : [null, null, null, null, null],
      )
      assert.equal(transport.opened, 0, 'no host was attempted')
    }
  })

  it('a cancelled job still skips its hosts as cancelled, whatever the jump host', async () => {
    const abort = new AbortController()
    abort.abort()
    const run = await runEngine(targets(3), { signal: abort.signal, transport: new NoWay(true) })
    assert.deepEqual(
      run.results.map((r) => [r.status, r.error]),
      Array.from({ length: 3 }, () => ['skipped', 'not started: the job was cancelled']),
    )
  })
})
