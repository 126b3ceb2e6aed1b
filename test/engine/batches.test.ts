/** Rolling batches in the scheduler: order, the threshold between batches, the pause and its cancellation. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { planBatches, parseBatchSize } from '../../src/engine/targets/rollout.js'
import { startFakeFleet, type FakeFleet } from '../helpers/fleet.js'
import { RecordingReporter, runEngine, target } from '../helpers/engine.js'

/** A fleet whose command `fail` exits 1 and anything else exits 0. */
async function timedFleet(n: number): Promise<{ fleet: FakeFleet }> {
  const fleet = await startFakeFleet(n, {
    onExec: (command, stream) => {
      setImmediate(() => {
        stream.exit(command.startsWith('fail') ? 1 : 0)
        stream.end()
      })
    },
  })
  return { fleet }
}

const targetsOf = (f: FakeFleet) => f.servers.map((s) => target(s.host, s.port))

describe('rolling batches', () => {
  it('each batch finishes before the next starts, sized by the ramp, and results carry their batch', async () => {
    const { fleet } = await timedFleet(7)
    const order: string[] = []
    try {
      const reporter = new RecordingReporter()
      reporter.onRollout = () => order.push(reporter.rollout.at(-1)!)
      const batches = planBatches(parseBatchSize('1, 50%'), 7)
      assert.deepEqual(batches, [1, 4, 2])
      const run = await runEngine(targetsOf(fleet), { concurrency: 10, batches }, reporter)
      assert.deepEqual(reporter.rollout, ['batch 1/3: 1 hosts', 'batch 2/3: 4 hosts', 'batch 3/3: 2 hosts'])
      assert.deepEqual(
        run.results.map((r) => r.batch),
        [1, 2, 2, 2, 2, 3, 3],
      )
      assert.ok(run.results.every((r) => r.status === 'success'))
      // Finishing order: every host of batch k is reported before any host of batch k+1.
      const finishedBatches = reporter.finished.map((f) => f.result.batch!)
      assert.deepEqual(
        finishedBatches,
        [...finishedBatches].sort((a, b) => a - b),
      )
    } finally {
      await fleet.close()
    }
  })

  it('a failing canary stops the rollout whatever fail-fast says: later hosts never run the command', async () => {
    const { fleet } = await timedFleet(5)
    try {
      const targets = targetsOf(fleet)
      const run = await runEngine(targets, { concurrency: 5, batches: [1, 2, 2], failFast: false, session: { command: 'fail' } })
      assert.deepEqual(
        run.results.map((r) => r.status),
        ['failed', 'skipped', 'skipped', 'skipped', 'skipped'],
      )
      for (const r of run.results.slice(1)) assert.match(r.error!, /max-failures was exceeded by batch 1\/3, so later batches do not start/)
      assert.deepEqual(
        fleet.servers.map((s) => s.commands.length),
        [1, 0, 0, 0, 0],
      )
      assert.equal(run.stoppedEarly, true)
      assert.equal(run.thresholdExceeded, true)
      assert.deepEqual(run.reporter.rollout, ['batch 1/3: 1 hosts'])
    } finally {
      await fleet.close()
    }
  })

  it('failures within max-failures let the next batch start', async () => {
    const { fleet } = await timedFleet(3)
    try {
      const run = await runEngine(targetsOf(fleet), { batches: [1, 2], threshold: { kind: 'count', value: 1 }, session: { command: 'fail' } })
      assert.deepEqual(
        run.results.map((r) => r.status),
        ['failed', 'failed', 'failed'],
      )
    } finally {
      await fleet.close()
    }
  })

  it('cancelling during batch-pause ends the pause at once; later hosts are skipped as cancelled', async () => {
    const { fleet } = await timedFleet(3)
    const abort = new AbortController()
    try {
      const reporter = new RecordingReporter()
      reporter.onRollout = () => {
        if (reporter.rollout.at(-1)!.startsWith('pause')) abort.abort()
      }
      // A 10-minute pause: the test can only finish if cancellation cuts it short.
      const run = await runEngine(targetsOf(fleet), { batches: [1, 2], batchPauseMs: 600_000, signal: abort.signal }, reporter)
      assert.deepEqual(reporter.rollout, ['batch 1/2: 1 hosts', 'pause before 2/2'])
      assert.deepEqual(
        run.results.map((r) => r.status),
        ['success', 'skipped', 'skipped'],
      )
      assert.match(run.results[1].error!, /cancelled/)
      assert.equal(run.cancelled, true)
    } finally {
      await fleet.close()
    }
  })

  it('without batches, results carry batch null and no batch line is printed', async () => {
    const { fleet } = await timedFleet(2)
    try {
      const run = await runEngine(targetsOf(fleet))
      assert.deepEqual(
        run.results.map((r) => r.batch),
        [null, null],
      )
      assert.deepEqual(run.reporter.rollout, [])
    } finally {
      await fleet.close()
    }
  })
})
