/**
 * The rollback: when the rollout halts (the failures exceed max-failures, the job not
 * cancelled), rollback-command runs on every host whose command was started in this run,
 * whatever its outcome; batch by batch, the latest first (each batch's rollbacks end before the
 * next older batch's start), within a batch at `concurrency`. Its environment says why
 * (SSH_FANOUT_ROLLBACK_REASON) and how the host ended (SSH_FANOUT_STATUS).
 */
import pMap from 'p-map'
import { describeThreshold, type Threshold } from '../parse.js'
import { envPrefix } from '../targets/env.js'
import { isFailure, type HostResult, type HostRollback } from '../model.js'
import { runHost, type HostRunContext } from './attempts.js'
import type { Ledger } from './ledger.js'
import type { FanoutOptions, RollbackSummary } from './types.js'

export const ROLLBACK_REASON_NAME = 'SSH_FANOUT_ROLLBACK_REASON'
export const STATUS_NAME = 'SSH_FANOUT_STATUS'

export async function runRollback(opts: FanoutOptions, ledger: Ledger, ctx: HostRunContext): Promise<RollbackSummary> {
  const rollback = opts.rollback!
  const started = Date.now()
  const reason = haltReason(ledger.results as HostResult[], opts.threshold)
  const changed = ledger.results.flatMap((r, index) => (r?.changed ? [index] : []))
  const waves = newestFirst(changed, ledger)
  opts.reporter.rollbackStarted?.(reason, changed.length, waves.length)
  let succeeded = 0
  for (const wave of waves) {
    await pMap(
      wave,
      async (index) => {
        const host = ledger.results[index]!
        if (opts.signal?.aborted) return // cancelled: no rollback starts
        const vars = envPrefix([
          { name: ROLLBACK_REASON_NAME, value: reason },
          { name: STATUS_NAME, value: host.status },
        ])
        const session: HostRunContext['session'] = {
          ...ctx.session,
          command: vars + rollback.command,
          prepare: undefined,
          check: undefined,
        }
        const spool = opts.spoolDir.spool(opts.maxOutputBytes)
        const { result } = await runHost(host.target, spool, { ...ctx, session })
        const done: HostResult = { ...host, rollback: rollbackOf(result) }
        if (done.rollback!.status === 'success') succeeded += 1
        ledger.results[index] = done
        await ledger.reportAgain(() => opts.reporter.rollbackFinished?.(done, spool), spool)
      },
      { concurrency: opts.concurrency },
    )
  }
  const ran = changed.filter((i) => ledger.results[i]!.rollback !== null).length
  const summary = { reason, hosts: ran, succeeded, failed: ran - succeeded, durationMs: Date.now() - started }
  opts.reporter.rollbackDone?.(summary)
  return summary
}

/** The changed hosts grouped by batch, the latest batch first (one group without batches). */
function newestFirst(changed: number[], ledger: Ledger): number[][] {
  const byBatch = new Map<number, number[]>()
  for (const index of changed) {
    const batch = ledger.results[index]!.batch ?? 0
    byBatch.set(batch, [...(byBatch.get(batch) ?? []), index])
  }
  return [...byBatch.entries()].sort((a, b) => b[0] - a[0]).map(([, hosts]) => hosts)
}

/** One line: how many hosts failed, against what max-failures allows, and the first of them. */
export function haltReason(results: HostResult[], threshold: Threshold): string {
  const failed = results.filter((r) => r && isFailure(r.status))
  const names = failed
    .slice(0, 5)
    .map((r) => `${r.target.label} ${r.status === 'failed' ? (r.signal ?? `exit ${r.exitCode}`) : r.status}`)
    .join(', ')
  const more = failed.length > 5 ? `, and ${failed.length - 5} more` : ''
  return `${failed.length} of ${results.length} hosts failed, more than max-failures allows (${describeThreshold(threshold, results.length)}): ${names}${more}`
}

/** A rollback's run as the result records it: a cancelled or unreachable one is an `error`. */
function rollbackOf(r: Omit<HostResult, 'batch'>): HostRollback {
  const status = r.status === 'success' || r.status === 'failed' || r.status === 'timeout' ? r.status : 'error'
  const error = status === 'success' || status === 'failed' ? null : (r.error ?? r.status)
  return { status, exitCode: r.exitCode, durationMs: r.durationMs, tail: r.tail, error }
}
