import * as core from '@actions/core'
import type { FanoutResult } from '../../engine/fanout/fanout.js'
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

/** `nothingToRun` says why there are no hosts (an empty shard), for a run of none. */
export function verdict(run: FanoutResult, threshold: Threshold, nothingToRun?: string): Verdict {
  const total = run.results.length
  if (total === 0) return { failed: false, message: `Nothing to run: ${nothingToRun ?? 'there are no hosts'}` }
  const failed = run.results.filter((r) => isFailure(r.status))
  const allowed = describeThreshold(threshold, total)
  if (run.cancelled) {
    return { failed: true, message: `The job was cancelled: ${failed.length} of ${countHosts(total)} did not finish successfully (${namesOf(failed)})` }
  }
  if (run.thresholdExceeded) {
    const skipped = run.results.filter((r) => r.status === 'skipped')
    const why = skipped.some((r) => /later batches/.test(r.error ?? '')) ? 'later batches' : 'fail-fast'
    const tail = skipped.length > 0 ? `; ${skipped.length} ${skipped.length === 1 ? 'host was' : 'hosts were'} not started (${why})` : ''
    return { failed: true, message: `${failed.length} of ${countHosts(total)} failed, more than max-failures (${allowed}): ${namesOf(failed)}${tail}` }
  }
  if (failed.length > 0) {
    return { failed: false, message: `${failed.length} of ${countHosts(total)} failed, within max-failures (${allowed}): ${namesOf(failed)}` }
  }
  return { failed: false, message: total === 1 ? 'The 1 host succeeded' : `All ${total} hosts succeeded` }
}

function namesOf(results: HostResult[], max = 20): string {
  const names = results.slice(0, max).map((r) => `${r.target.label} (${r.status === 'failed' ? (r.signal ?? `exit ${r.exitCode}`) : r.status})`)
  const more = results.length > max ? `, and ${results.length - max} more` : ''
  return names.join(', ') + more
}

/** One error annotation per failed host, aggregated past GitHub's cap (which counts the setFailed one). */
export function annotateFailures(run: FanoutResult, stepFails: boolean): void {
  // A bastion that cannot be had is said once (run.ts), not once per host.
  const failed = run.results.filter((r) => isFailure(r.status) && r.errorKind !== 'jump host')
  const budget = MAX_ERROR_ANNOTATIONS - (stepFails ? 1 : 0) - (run.results.some((r) => r.errorKind === 'jump host') ? 1 : 0)
  const individual = failed.length <= budget ? failed : failed.slice(0, budget - 1)
  for (const r of individual) {
    const why = r.status === 'failed' ? (r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`) : (r.error ?? r.status)
    core.error(inert(`${r.target.label}: ${r.status}: ${why}`), { title: inert(`ssh-fanout: ${r.target.label} ${r.status}`) })
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
