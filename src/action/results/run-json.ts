/**
 * `run.json`, which log-dir writes beside `results.json`: which run, attempt, job and shard the
 * results came from, so that report-from can merge the files of a matrix (report/merge.ts).
 */
import type { HostResult } from '../../engine/model.js'
import type { Shard } from '../../engine/targets/rollout.js'

export interface RunRecord {
  repository: string | null
  runId: string | null
  runAttempt: number
  job: string | null
  /** `i/n`, or null when the job was not sharded. */
  shard: string | null
  /** Hosts in the fleet before sharding. */
  totalHosts: number
  /** Hosts this job ran (its shard's slice). */
  hosts: number
  /** True when the hosts came from an inventory: their `host` fields are inventory names, the labels. */
  inventory: boolean
  /** With check-command: the attempts check-timeout allows (the same for every host), which results.json does not say; else null. */
  checkPlanned: number | null
  /** Positions in results.json of the hosts whose command was sent (the `changed` output), which results.json does not say. */
  changed: number[]
  startedAt: string
  endedAt: string
}

export interface RunFacts {
  shard: Shard | null
  totalHosts: number
  inventory: boolean
  checkPlanned: number | null
  startedAt: Date
  endedAt: Date
}

/** The record of this job, from the runner's variables. */
export function runRecord(results: readonly HostResult[], facts: RunFacts, env: NodeJS.ProcessEnv = process.env): RunRecord {
  const attempt = Number(env.GITHUB_RUN_ATTEMPT)
  return {
    repository: env.GITHUB_REPOSITORY || null,
    runId: env.GITHUB_RUN_ID || null,
    runAttempt: Number.isSafeInteger(attempt) && attempt >= 1 ? attempt : 1,
    job: env.GITHUB_JOB || null,
    shard: facts.shard ? `${facts.shard.index}/${facts.shard.count}` : null,
    totalHosts: facts.totalHosts,
    hosts: results.length,
    inventory: facts.inventory,
    checkPlanned: facts.checkPlanned,
    changed: results.flatMap((r, i) => (r.changed ? [i] : [])),
    startedAt: facts.startedAt.toISOString(),
    endedAt: facts.endedAt.toISOString(),
  }
}
