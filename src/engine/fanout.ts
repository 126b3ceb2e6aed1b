import pMap from 'p-map'
import type { OutputSpool, SpoolDir } from './output.js'
import { thresholdExceeded, type Threshold } from './parse.js'
import { isFailure, type HostResult, type HostStatus, type HostTarget } from './result.js'
import { runSession, type SessionOptions, type SessionOutcome } from './session.js'

/** What the engine tells the outside world. The action layer implements it with @actions/core. */
export interface Reporter {
  /**
   * Called once per host, serially, in finishing order, skipped hosts included (with no spool).
   * The spool is removed after it resolves.
   */
  hostFinished(result: HostResult, output: OutputSpool | null): Promise<void>
  /** Called every `progressIntervalMs` while hosts run. */
  progress(progress: Progress): void
  /** A connection attempt failed in a way worth retrying; the next one starts after `delayMs`. */
  retrying(target: HostTarget, outcome: SessionOutcome, attempt: number, delayMs: number): void
}

export interface Progress {
  total: number
  finished: number
  running: number
  counts: Record<HostStatus, number>
}

export interface FanoutOptions {
  targets: HostTarget[]
  concurrency: number
  threshold: Threshold
  failFast: boolean
  /** Extra connection attempts for transient failures before the command starts. */
  retries: number
  retryBaseDelayMs?: number
  /** Session settings shared by every host. */
  session: Omit<SessionOptions, 'target' | 'output' | 'signal'>
  maxOutputBytes: number
  spoolDir: SpoolDir
  /** Aborted when the job is cancelled. */
  signal?: AbortSignal
  reporter: Reporter
  progressIntervalMs?: number
}

export interface FanoutResult {
  /** One result per target, in the order of `targets`. */
  results: HostResult[]
  failures: number
  thresholdExceeded: boolean
  /** Hosts left unstarted because fail-fast tripped. */
  stoppedEarly: boolean
  cancelled: boolean
}

function emptyCounts(): Record<HostStatus, number> {
  return { success: 0, failed: 0, error: 0, timeout: 0, skipped: 0, cancelled: 0 }
}

/** Runs the session on every target with bounded concurrency. Every target ends with exactly one result. */
export async function fanout(opts: FanoutOptions): Promise<FanoutResult> {
  const results: Array<HostResult | undefined> = new Array(opts.targets.length)
  const counts = emptyCounts()
  let running = 0
  let failures = 0
  let stoppedEarly = false
  let reports: Promise<void> = Promise.resolve()

  const tripped = () => opts.failFast && thresholdExceeded(opts.threshold, failures, opts.targets.length)
  const record = (index: number, result: HostResult, spool: OutputSpool | null) => {
    results[index] = result
    counts[result.status] += 1
    if (isFailure(result.status)) failures += 1
    reports = reports.then(() => report(opts.reporter, result, spool))
  }

  const progress = setInterval(() => {
    const finished = Object.values(counts).reduce((a, b) => a + b, 0)
    opts.reporter.progress({ total: opts.targets.length, finished, running, counts: { ...counts } })
  }, opts.progressIntervalMs ?? 15_000)
  progress.unref()

  try {
    await pMap(
      opts.targets.entries(),
      async ([index, target]) => {
        if (opts.signal?.aborted || tripped()) {
          stoppedEarly ||= !opts.signal?.aborted
          record(index, skippedResult(target, opts.signal?.aborted ? 'not started: the job was cancelled' : 'not started: max-failures was exceeded and fail-fast is on'), null)
          return
        }
        running += 1
        const spool = opts.spoolDir.spool(opts.maxOutputBytes)
        const started = Date.now()
        let result: HostResult
        try {
          result = await runHost(target, spool, opts)
        } catch (err) {
          // runSession never throws; this guards the promise that every host ends with one result.
          result = { ...skippedResult(target, `internal error: ${(err as Error).message}`), status: 'error', durationMs: Date.now() - started, attempts: 1 }
        }
        running -= 1
        record(index, result, spool)
      },
      { concurrency: opts.concurrency },
    )
  } finally {
    clearInterval(progress)
  }
  await reports
  return {
    results: results.map((r, i) => r ?? skippedResult(opts.targets[i], 'not started')),
    failures,
    thresholdExceeded: thresholdExceeded(opts.threshold, failures, opts.targets.length),
    stoppedEarly,
    cancelled: opts.signal?.aborted ?? false,
  }
}

/** Prints one host. A failure to print (e.g. a closed stdout) must not stop the other hosts' reports or the results. */
async function report(reporter: Reporter, result: HostResult, spool: OutputSpool | null): Promise<void> {
  try {
    await reporter.hostFinished(result, spool)
  } catch (err) {
    process.stderr.write(`ssh-fanout: could not print the log of ${result.target.label}: ${(err as Error).message}\n`)
  } finally {
    await spool?.dispose()
  }
}

/** One host, with retries for transient failures before the command started. */
async function runHost(target: HostTarget, output: OutputSpool, opts: FanoutOptions): Promise<HostResult> {
  const startedAt = Date.now()
  let attempts = 0
  for (;;) {
    attempts += 1
    const outcome = await runSession({ ...opts.session, target, output, signal: opts.signal })
    if (!outcome.retryable || attempts > opts.retries || opts.signal?.aborted) {
      return toResult(target, outcome, attempts, Date.now() - startedAt, output)
    }
    const delayMs = backoffDelay(attempts, opts.retryBaseDelayMs ?? 1_000)
    opts.reporter.retrying(target, outcome, attempts, delayMs)
    if (!(await sleep(delayMs, opts.signal))) {
      return toResult(target, { ...outcome, status: 'cancelled', error: `cancelled: the job was cancelled while waiting to retry (last attempt: ${outcome.error})`, errorKind: 'cancelled' }, attempts, Date.now() - startedAt, output)
    }
  }
}

/** About base, 2×base, 4×base, … with ±50% jitter so a fleet does not retry in lockstep. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return Math.round(baseMs * 2 ** (attempt - 1) * (0.5 + random()))
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false)
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function toResult(target: HostTarget, outcome: SessionOutcome, attempts: number, durationMs: number, output: OutputSpool): HostResult {
  return {
    target,
    status: outcome.status,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    error: outcome.error,
    errorKind: outcome.errorKind,
    durationMs,
    tail: output.tailLines(),
    attempts,
    hostKey: outcome.hostKey,
  }
}

function skippedResult(target: HostTarget, reason: string): HostResult {
  return { target, status: 'skipped', exitCode: null, signal: null, error: reason, errorKind: null, durationMs: 0, tail: [], attempts: 0, hostKey: null }
}
