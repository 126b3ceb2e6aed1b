import * as core from '@actions/core'
import type { FanoutResult } from '../../engine/fanout/fanout.js'
import type { RollbackSummary } from '../../engine/fanout/types.js'
import { isFailure, type HostResult } from '../../engine/model.js'
import { describeThreshold, type Threshold } from '../../engine/parse.js'
import { inert } from '../log/remote-text.js'
import { countHosts } from '../../engine/format.js'

/** GitHub shows at most 10 error annotations per step, the setFailed one included. */
export const MAX_ERROR_ANNOTATIONS = 10

/** The step's outcome: whether it fails, and the one line that says why. */
export interface Verdict {
  failed: boolean
  message: string
}

/** Shards report-from found no files for: each counts as failures of all its hosts. */
export interface MissingHosts {
  /** `3/8` */
  shard: string
  hosts: number
}

/** `nothingToRun` says why there are no hosts (an empty shard), for a run of none; `missing`: report-from's unreported shards. */
export function verdict(run: FanoutResult, threshold: Threshold, nothingToRun?: string, missing: readonly MissingHosts[] = []): Verdict {
  const v = outcome(run, threshold, nothingToRun, missing)
  return run.rollback ? { ...v, message: `${v.message}; ${rollbackLine(run.rollback)}` } : v
}

/**
 * `rolled back N of M changed hosts (K failed)`: N rollbacks exited 0, K did not. When no host had
 * changed (preflight halted the rollout, say), there was nothing to roll back, and it says that.
 */
export function rollbackLine(rb: RollbackSummary): string {
  if (rb.hosts === 0) return 'no host had changed, so none was rolled back'
  return `rolled back ${rb.succeeded} of ${countHosts(rb.hosts, 'changed')} (${rb.failed} failed)`
}

function outcome(run: FanoutResult, threshold: Threshold, nothingToRun: string | undefined, missing: readonly MissingHosts[]): Verdict {
  const unreported = missing.reduce((n, m) => n + m.hosts, 0)
  const total = run.results.length + unreported
  if (total === 0) return { failed: false, message: `Nothing to run: ${nothingToRun ?? 'there are no hosts'}` }
  const failed = run.results.filter((r) => isFailure(r.status))
  const allowed = describeThreshold(threshold, total)
  if (missing.length > 0) {
    const count = failed.length + unreported
    const names = [namesOf(failed), ...missing.map((m) => `shard ${m.shard} (${countHosts(m.hosts)}, reported nothing)`)].filter((n) => n !== '').join(', ')
    const within = run.thresholdExceeded ? 'more than' : 'within'
    return { failed: run.thresholdExceeded, message: `${count} of ${countHosts(total)} failed, ${within} max-failures (${allowed}): ${names}` }
  }
  if (run.cancelled) {
    return { failed: true, message: `The job was cancelled: ${failed.length} of ${countHosts(total)} did not finish successfully (${namesOf(failed)})` }
  }
  if (run.thresholdExceeded) {
    const skipped = run.results.filter((r) => r.status === 'skipped')
    const halted = run.preflight?.halted === true
    const why = halted ? 'preflight failed' : skipped.some((r) => /later batches/.test(r.error ?? '')) ? 'later batches' : 'fail-fast'
    const tail = skipped.length > 0 ? `; ${skipped.length} ${skipped.length === 1 ? 'host was' : 'hosts were'} not started (${why})` : ''
    return { failed: true, message: `${failed.length} of ${countHosts(total)} failed, more than max-failures (${allowed}): ${namesOf(failed)}${tail}` }
  }
  if (failed.length > 0) {
    return { failed: false, message: `${failed.length} of ${countHosts(total)} failed, within max-failures (${allowed}): ${namesOf(failed)}` }
  }
  return { failed: false, message: total === 1 ? 'The 1 host succeeded' : `All ${total} hosts succeeded` }
}

/** `web1 (exit 3), web2 (unhealthy), web3 (preflight error)`: what each failed host ended as. */
function namesOf(results: HostResult[], max = 20): string {
  const how = (r: HostResult) => {
    const status = r.status === 'failed' ? (r.signal ?? `exit ${r.exitCode}`) : r.status
    // A preflight failure's exit code is the preflight-command's, not the command's: say so.
    return r.preflight === 'failed' ? `preflight ${status}` : status
  }
  const names = results.slice(0, max).map((r) => `${r.target.label} (${how(r)})`)
  const more = results.length > max ? `, and ${results.length - max} more` : ''
  return names.join(', ') + more
}

/** One error annotation per failed host, aggregated past GitHub's cap (which counts the setFailed one, and `reserved` others). */
export function annotateFailures(run: FanoutResult, stepFails: boolean, reserved = 0): void {
  // A bastion that cannot be had is said once (run.ts), not once per host.
  const failed = run.results.filter((r) => isFailure(r.status) && r.errorKind !== 'jump host')
  const budget = MAX_ERROR_ANNOTATIONS - reserved - (stepFails ? 1 : 0) - (run.results.some((r) => r.errorKind === 'jump host') ? 1 : 0)
  const individual = failed.length <= budget ? failed : failed.slice(0, budget - 1)
  for (const r of individual) {
    core.error(inert(`${r.target.label}: ${r.status}: ${failureWhy(r)}`), { title: inert(`ssh-fanout: ${r.target.label} ${r.status}`) })
  }
  const rest = failed.slice(individual.length)
  if (rest.length > 0) {
    const names = rest
      .slice(0, 50)
      .map((r) => r.target.label)
      .join(', ')
    core.error(inert(`${countHosts(rest.length, 'more')} failed: ${names}${rest.length > 50 ? ', …' : ''} (see the job summary)`), {
      title: `ssh-fanout: ${countHosts(rest.length, 'more')} failed`,
    })
  }
}

/** What an annotation says a failed host ended with. */
function failureWhy(r: HostResult): string {
  if (r.status === 'unhealthy') return unhealthyWhy(r)
  if (r.status !== 'failed') return r.error ?? r.status
  const how = r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`
  // A preflight failure's exit code is the preflight-command's, not the command's.
  return r.preflight === 'failed' ? `preflight-command ${how}` : how
}

/** `health check failed 12 attempts (last exit code 7)`, or the soak check after batch-pause when that failed. */
function unhealthyWhy(r: HostResult): string {
  const c = r.check
  if (c === null) return r.error ?? 'health check failed'
  const exit = c.exitCode === null ? 'no exit code' : `exit code ${c.exitCode}`
  if (c.soak === 'failed') return `soak check after batch-pause failed (${exit}); the health check had passed on attempt ${c.attempts}/${c.planned}`
  return `health check failed ${c.attempts} ${c.attempts === 1 ? 'attempt' : 'attempts'} (${c.exitCode === null ? exit : `last ${exit}`})`
}
