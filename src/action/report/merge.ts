/**
 * The merge rules of report-from: the results.json files of a matrix's shards (with the run.json
 * beside each) become one set of host results, in the fleet's host order, and the shards that
 * reported nothing. Pure: reading the files is report.ts's. Throws a plain Error saying which
 * file is wrong and why; the caller makes it a report-from input error.
 */
import { FAILURE_STATUSES, type HostResult, type HostStatus, type HostTarget } from '../../engine/model.js'
import { hostLabel } from '../../engine/targets/hosts.js'
import { parseShard, shardBounds, type Shard } from '../../engine/targets/rollout.js'
import type { RunRecord } from '../results/run-json.js'

/** One job's files, parsed as JSON but not yet checked. */
export interface ShardFiles {
  /** Paths as the messages name them. */
  resultsPath: string
  runPath: string
  results: unknown
  run: unknown
}

export interface MissingShard {
  /** `3/8` */
  shard: string
  hosts: number
}

export interface Merged {
  /** One per host known by name, in the fleet's order (by shard, then as its job listed them). */
  results: HostResult[]
  /** Hosts in the fleet (before sharding), as the jobs' run.json say. */
  totalHosts: number
  missing: MissingShard[]
}

const STATUSES = new Set<HostStatus>([...FAILURE_STATUSES, 'success', 'skipped'])

interface Job {
  files: ShardFiles
  run: RunRecord
  shard: Shard
  entries: Entry[]
}

type Entry = Record<string, unknown> & { host: string; status: HostStatus }

export function mergeShards(files: readonly ShardFiles[]): Merged {
  if (files.length === 0) throw new Error('matched no results.json file')
  const jobs = files.map(readJob)
  const [first] = jobs
  for (const job of jobs.slice(1)) {
    const differ = (what: string, a: unknown, b: unknown) =>
      new Error(`${first.files.runPath} and ${job.files.runPath} disagree on ${what} (${String(a)} and ${String(b)}): merge the shards of one run only`)
    if (job.run.runId !== first.run.runId) throw differ('the run id', first.run.runId, job.run.runId)
    if (job.shard.count !== first.shard.count) throw differ('the number of shards', first.shard.count, job.shard.count)
    if (job.run.totalHosts !== first.run.totalHosts) throw differ("the fleet's host count", first.run.totalHosts, job.run.totalHosts)
  }
  // A host's place in the fleet: its shard, then its position there; a re-run shard keeps the places.
  const byHost = new Map<string, { job: Job; entry: Entry; index: number; place: [number, number] }>()
  // Every attempt seen of each host, with its file: the same attempt twice is a mistake even when a later one replaces both.
  const attempts = new Map<string, Map<number, string>>()
  for (const job of jobs) {
    job.entries.forEach((entry, index) => {
      const key = JSON.stringify([entry.host, entry.address ?? entry.host, entry.port ?? 22, entry.username ?? ''])
      const seenAttempts = attempts.get(key) ?? new Map<number, string>()
      attempts.set(key, seenAttempts)
      const other = seenAttempts.get(job.run.runAttempt)
      if (other !== undefined) {
        throw new Error(
          `${other} and ${job.files.resultsPath} both have host ${entry.host} from run attempt ${job.run.runAttempt}: give each shard's files once (the later attempt of a re-run shard replaces the earlier)`,
        )
      }
      seenAttempts.set(job.run.runAttempt, job.files.resultsPath)
      const seen = byHost.get(key)
      if (!seen || job.run.runAttempt > seen.job.run.runAttempt) byHost.set(key, { job, entry, index, place: seen?.place ?? [job.shard.index, index] })
    })
  }
  const chosen = [...byHost.values()].sort((a, b) => a.place[0] - b.place[0] || a.place[1] - b.place[1])
  const results = chosen.map(({ job, entry, index }) => hostResult(entry, job.run, index))
  relabel(results)
  const reported = new Set(jobs.map((j) => j.shard.index))
  const { count } = first.shard
  const missing: MissingShard[] = []
  for (let index = 1; index <= count; index++) {
    if (reported.has(index)) continue
    const { start, end } = shardBounds({ index, count }, first.run.totalHosts)
    missing.push({ shard: `${index}/${count}`, hosts: end - start })
  }
  return { results, totalHosts: first.run.totalHosts, missing }
}

function readJob(files: ShardFiles): Job {
  const run = files.run as Partial<RunRecord> | null
  const bad = (why: string) => new Error(`${files.runPath} ${why}; it must be the run.json that log-dir writes beside results.json`)
  if (run === null || typeof run !== 'object' || Array.isArray(run)) throw bad('is not a JSON object')
  if (!(typeof run.totalHosts === 'number' && Number.isSafeInteger(run.totalHosts) && run.totalHosts >= 0)) throw bad('has no totalHosts')
  if (!(typeof run.runAttempt === 'number' && Number.isSafeInteger(run.runAttempt))) throw bad('has no runAttempt')
  if (!(run.shard === null || typeof run.shard === 'string')) throw bad('has no shard')
  let shard: Shard
  try {
    shard = (run.shard === null ? null : parseShard(run.shard)) ?? { index: 1, count: 1 }
  } catch (err) {
    throw bad(`has a bad shard: ${(err as Error).message}`)
  }
  const record: RunRecord = {
    ...(run as RunRecord),
    runId: run.runId ?? null,
    inventory: run.inventory === true,
    changed: Array.isArray(run.changed) ? run.changed : [],
  }
  const entries = files.results
  if (!Array.isArray(entries)) throw new Error(`${files.resultsPath} is not a JSON array; give the results.json that log-dir writes`)
  entries.forEach((e: unknown, i) => {
    const entry = e as Partial<Entry> | null
    if (entry === null || typeof entry !== 'object' || typeof entry.host !== 'string' || !STATUSES.has(entry.status as HostStatus)) {
      throw new Error(`${files.resultsPath}: entry ${i + 1} is not a host's result (it needs host and status); give the results.json that log-dir writes`)
    }
  })
  return { files, run: record, shard, entries: entries as Entry[] }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)
const lines = (v: unknown): string[] => (typeof v === 'string' && v !== '' ? v.split('\n') : [])

/** A HostResult as the job had it, rebuilt from its results.json entry (resultEntry in outputs.ts). */
function hostResult(e: Entry, run: RunRecord, index: number): HostResult {
  const { inventory } = run
  const changed = run.changed.includes(index)
  const address = str(e.address) ?? e.host
  const port = num(e.port) ?? 22
  const groups = Array.isArray(e.groups) ? e.groups.filter((g): g is string => typeof g === 'string') : []
  const target: HostTarget = { host: address, port, username: str(e.username) ?? '', label: inventory ? e.host : hostLabel(address, port) }
  if (inventory) target.inventory = { name: e.host, groups }
  const check = e.check as Record<string, unknown> | null
  const rb = e.rollback as Record<string, unknown> | null
  const rbLines = rb ? lines(rb.output) : []
  const rbFailedToRun = rb !== null && (rb?.status === 'error' || rb?.status === 'timeout')
  return {
    target,
    status: e.status,
    exitCode: num(e.exitCode),
    signal: str(e.signal),
    error: str(e.error),
    errorKind: null,
    durationMs: num(e.durationMs) ?? 0,
    tail: lines(e.output),
    attempts: num(e.attempts) ?? 0,
    batch: num(e.batch),
    hostKey: null,
    preflight: e.preflight === 'ok' || e.preflight === 'failed' ? e.preflight : null,
    changed,
    check: check
      ? {
          attempts: num(check.attempts) ?? 0,
          // results.json does not keep how many attempts check-timeout allowed; run.json does (files from before it: the attempts made).
          planned: run.checkPlanned ?? num(check.attempts) ?? 0,
          exitCode: num(check.exitCode),
          durationMs: num(check.durationMs) ?? 0,
          soak: check.soak === 'ok' || check.soak === 'failed' ? check.soak : null,
          log: [],
        }
      : null,
    rollback: rb
      ? {
          status: rb.status as NonNullable<HostResult['rollback']>['status'],
          exitCode: num(rb.exitCode),
          durationMs: num(rb.durationMs) ?? 0,
          // A rollback that did not run to an exit status has its reason as the output's last line.
          tail: rbFailedToRun ? rbLines.slice(0, -1) : rbLines,
          error: rbFailedToRun ? (rbLines.at(-1) ?? (rb.status as string)) : null,
        }
      : null,
  }
}

/** As resolveTargets: several users on one host and port each get `user@` in their labels (inventory names stay). */
function relabel(results: HostResult[]): void {
  const place = (t: HostTarget) => JSON.stringify([t.host, t.port])
  const sharing = new Map<string, number>()
  const plain = results.map((r) => r.target).filter((t) => !t.inventory)
  for (const t of plain) sharing.set(place(t), (sharing.get(place(t)) ?? 0) + 1)
  for (const t of plain) if (sharing.get(place(t))! > 1) t.label = `${t.username}@${t.label}`
}
