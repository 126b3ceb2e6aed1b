/** The step's verdict (its one line, whether it fails) and the failed hosts' annotations. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Threshold } from '../../src/engine/parse.js'
import type { PreflightSummary, RollbackSummary } from '../../src/engine/fanout/types.js'
import type { FanoutResult } from '../../src/engine/fanout/fanout.js'
import { annotateFailures, rollbackLine, verdict } from '../../src/action/results/verdict.js'
import { parseLog } from '../helpers/action.js'
import { fanoutResult, hostResult as result, target } from '../helpers/results.js'
import { stdoutOf } from '../helpers/stdout.js'

const count = (value: number): Threshold => ({ kind: 'count', value })
const percent = (value: number): Threshold => ({ kind: 'percent', value })

describe('verdict', () => {
  it('all succeeded', () => {
    const run = fanoutResult([result('a', 'success'), result('b', 'success'), result('c', 'success')])
    assert.deepEqual(verdict(run, count(0)), { failed: false, message: 'All 3 hosts succeeded' })
  })

  it('one host, and no host, in plain words', () => {
    assert.deepEqual(verdict(fanoutResult([result('a', 'success')]), count(0)), { failed: false, message: 'The 1 host succeeded' })
    assert.equal(
      verdict(fanoutResult([result('a', 'failed', { exitCode: 1 })], { thresholdExceeded: true }), count(0)).message,
      '1 of 1 host failed, more than max-failures (0): a (exit 1)',
    )
    assert.equal(verdict(fanoutResult([result('a', 'failed', { exitCode: 1 })]), count(1)).message, '1 of 1 host failed, within max-failures (1): a (exit 1)')
    assert.deepEqual(verdict(fanoutResult([]), count(0), 'shard 6/8 has no hosts (the list has 5)'), {
      failed: false,
      message: 'Nothing to run: shard 6/8 has no hosts (the list has 5)',
    })
  })

  it('failures within the threshold do not fail the step and are named', () => {
    const run = fanoutResult([result('web1', 'success'), result('web2', 'failed', { exitCode: 3 }), result(target('web3', 2222), 'error')])
    assert.deepEqual(verdict(run, count(2)), {
      failed: false,
      message: '2 of 3 hosts failed, within max-failures (2): web2 (exit 3), web3:2222 (error)',
    })
    assert.equal(verdict(run, percent(50)).message, '2 of 3 hosts failed, within max-failures (50% of 3 hosts (1)): web2 (exit 3), web3:2222 (error)')
  })

  it('exceeded: names the failed hosts and counts the skipped ones', () => {
    const run = fanoutResult(
      [result('web1', 'failed', { signal: 'SIGKILL', exitCode: null }), result('web2', 'timeout'), result('web3', 'skipped'), result('web4', 'success')],
      { thresholdExceeded: true, stoppedEarly: true },
    )
    assert.deepEqual(verdict(run, count(1)), {
      failed: true,
      message: '2 of 4 hosts failed, more than max-failures (1): web1 (SIGKILL), web2 (timeout); 1 host was not started (fail-fast)',
    })
  })

  it('exceeded: names at most 20 hosts', () => {
    const failed = Array.from({ length: 25 }, (_, i) => result(`h${i}`, 'failed'))
    const message = verdict(fanoutResult(failed, { thresholdExceeded: true }), count(0)).message
    assert.ok(message.startsWith('25 of 25 hosts failed, more than max-failures (0): h0 (exit 1), h1 (exit 1),'), message)
    assert.ok(message.endsWith('h19 (exit 1), and 5 more'), message)
    assert.ok(!message.includes('h20 '), message)
  })

  it('cancelled', () => {
    const run = fanoutResult([result('web1', 'success'), result('web2', 'cancelled'), result('web3', 'skipped')], { cancelled: true, thresholdExceeded: true })
    assert.deepEqual(verdict(run, count(5)), {
      failed: true,
      message: 'The job was cancelled: 1 of 3 hosts did not finish successfully (web2 (cancelled))',
    })
  })
})

describe('verdict of a safe rollout', () => {
  const preflight = (over: Partial<PreflightSummary> = {}): PreflightSummary => ({ hosts: 5, passed: 5, failed: 0, durationMs: 2100, halted: false, ...over })
  const rollback = (over: Partial<RollbackSummary> = {}): RollbackSummary => ({
    reason: '1 of 4 hosts failed, more than max-failures (0)',
    hosts: 3,
    succeeded: 3,
    failed: 0,
    durationMs: 4000,
    ...over,
  })

  it('preflight halted: the hosts were not started because preflight failed; the failures are named as preflight ones', () => {
    const notStarted = { error: 'not started: preflight failed on 2 hosts' }
    const run = fanoutResult(
      [
        result('web1', 'skipped', notStarted),
        result('web2', 'error', { error: 'preflight: connection refused', preflight: 'failed' }),
        result('web3', 'failed', { exitCode: 1, error: 'preflight: preflight-command exited 1', preflight: 'failed' }),
        result('web4', 'skipped', notStarted),
        result('web5', 'skipped', { ...notStarted, batch: 3 }),
      ],
      { thresholdExceeded: true, stoppedEarly: true, preflight: preflight({ passed: 3, failed: 2, halted: true }) },
    )
    assert.deepEqual(verdict(run, count(1)), {
      failed: true,
      message: '2 of 5 hosts failed, more than max-failures (1): web2 (preflight error), web3 (preflight exit 1); 3 hosts were not started (preflight failed)',
    })
  })

  it('preflight within the threshold: the rollout went on, its failures named as preflight ones', () => {
    const run = fanoutResult([result('web1', 'success'), result('web2', 'error', { error: 'preflight: connection refused', preflight: 'failed' })], {
      preflight: preflight({ hosts: 2, passed: 1, failed: 1 }),
    })
    assert.deepEqual(verdict(run, count(1)), { failed: false, message: '1 of 2 hosts failed, within max-failures (1): web2 (preflight error)' })
  })

  it('unhealthy hosts are named unhealthy; later batches still say later batches', () => {
    const run = fanoutResult(
      [
        result('web1', 'unhealthy', { exitCode: 7, batch: 1 }),
        result('web2', 'success', { batch: 1 }),
        result('web3', 'skipped', { error: 'not started: batch 1 exceeded max-failures, so later batches were skipped', batch: 2 }),
      ],
      { thresholdExceeded: true, stoppedEarly: true },
    )
    assert.equal(verdict(run, count(0)).message, '1 of 3 hosts failed, more than max-failures (0): web1 (unhealthy); 1 host was not started (later batches)')
  })

  it('with a rollback, the message ends with how many changed hosts were rolled back', () => {
    const results = [result('web1', 'failed', { exitCode: 2 }), result('web2', 'success'), result('web3', 'unhealthy'), result('web4', 'skipped')]
    const run = fanoutResult(results, { thresholdExceeded: true, stoppedEarly: true, rollback: rollback({ succeeded: 2, failed: 1 }) })
    const v = verdict(run, count(0))
    assert.equal(v.failed, true)
    assert.equal(
      v.message,
      '2 of 4 hosts failed, more than max-failures (0): web1 (exit 2), web3 (unhealthy); 1 host was not started (fail-fast); rolled back 2 of 3 changed hosts (1 failed)',
    )
    // Every rollback succeeded: the step fails all the same.
    const clean = verdict(fanoutResult(results, { thresholdExceeded: true, rollback: rollback() }), count(0))
    assert.equal(clean.failed, true)
    assert.ok(clean.message.endsWith('; rolled back 3 of 3 changed hosts (0 failed)'), clean.message)
  })

  it('rollbackLine: one changed host, and none (nothing to roll back)', () => {
    assert.equal(rollbackLine(rollback({ hosts: 1, succeeded: 0, failed: 1 })), 'rolled back 0 of 1 changed host (1 failed)')
    assert.equal(rollbackLine(rollback({ hosts: 0, succeeded: 0, failed: 0 })), 'no host had changed, so none was rolled back')
    const halted = fanoutResult([result('web1', 'error', { preflight: 'failed' })], {
      thresholdExceeded: true,
      preflight: preflight({ hosts: 1, passed: 0, failed: 1, halted: true }),
      rollback: rollback({ hosts: 0, succeeded: 0, failed: 0 }),
    })
    assert.ok(verdict(halted, count(0)).message.endsWith('; no host had changed, so none was rolled back'))
  })
})

/** The annotations annotateFailures writes (as `::error` commands on stdout), read back as the runner reads them. */
function annotations(run: FanoutResult, stepFails = true): Array<{ title: string; message: string }> {
  const text = stdoutOf(() => annotateFailures(run, stepFails))
  return parseLog(text)
    .commands.filter((c) => c.command === 'error')
    .map((c) => ({ title: c.properties.title, message: c.message }))
}

describe('annotateFailures', () => {
  const check = { attempts: 12, planned: 12, exitCode: 7, durationMs: 55_000, soak: null, log: [] }

  it("an unhealthy host's annotation says its health check failed: attempts and last exit code", () => {
    const run = fanoutResult([result('web1', 'success'), result('web2', 'unhealthy', { exitCode: 7, check })])
    assert.deepEqual(annotations(run), [
      { title: 'ssh-fanout: web2 unhealthy', message: 'web2: unhealthy: health check failed 12 attempts (last exit code 7)' },
    ])
  })

  it('a soak check that failed after batch-pause says so; a check without exit code says that', () => {
    const run = fanoutResult([
      result('web1', 'unhealthy', { exitCode: 3, check: { ...check, attempts: 2, exitCode: 3, soak: 'failed' } }),
      result('web2', 'unhealthy', { exitCode: null, check: { ...check, attempts: 1, exitCode: null } }),
    ])
    assert.deepEqual(
      annotations(run).map((a) => a.message),
      [
        'web1: unhealthy: soak check after batch-pause failed (exit code 3); the health check had passed on attempt 2/12',
        'web2: unhealthy: health check failed 1 attempt (no exit code)',
      ],
    )
  })

  it('other failures as before; a failed preflight-command is named as such', () => {
    const run = fanoutResult([
      result('web1', 'failed', { exitCode: 4 }),
      result(target('web2', 2222), 'failed', { exitCode: null, signal: 'SIGKILL' }),
      result('web3', 'error', { error: 'preflight: connection refused', preflight: 'failed' }),
      result('web4', 'failed', { exitCode: 1, preflight: 'failed' }),
      result('web5', 'timeout'),
    ])
    assert.deepEqual(
      annotations(run).map((a) => a.message),
      [
        'web1: failed: exit code 4',
        'web2:2222: failed: killed by SIGKILL',
        'web3: error: preflight: connection refused',
        'web4: failed: preflight-command exit code 1',
        'web5: timeout: command timed out after 10 s',
      ],
    )
  })
})
