import pMap from 'p-map'
import type { OutputSpool } from '../output/spool.js'
import { thresholdExceeded } from '../parse.js'
import type { FanoutOptions, FanoutResult, Reporter } from './types.js'
import { isFailure, type HostResult, type HostStatus, type HostTarget } from '../model.js'
import { runSession, type SessionOutcome } from '../host/session.js'
import { sleep } from '../timers.js'
import { DirectTransport, TransportError, type Transport } from '../ssh/transport.js'

export type { FanoutOptions, FanoutResult, Progress, Reporter } from './types.js'

function emptyCounts(): Record<HostStatus, number> {
  return { success: 0, failed: 0, unhealthy: 0, error: 0, timeout: 0, skipped: 0, cancelled: 0 }
}

/**
 * Runs the session on every target with bounded concurrency, batch after batch when rolling
 * batches are given. Every target ends with exactly one result.
 */
export async function fanout(opts: FanoutOptions): Promise<FanoutResult> {
  const total = opts.targets.length
  const results = new Array<HostResult | undefined>(total)
  const counts = emptyCounts()
  const batches = opts.batches ?? [total]
  // Every host keeps the batch it was planned in, also when it never starts.
  const plannedBatch = opts.batches ? batches.flatMap((size, b) => new Array<number>(size).fill(b + 1)) : []
  const batchOf = (index: number): number | null => plannedBatch[index] ?? null
  const transport: Transport = opts.transport ?? new DirectTransport(opts.session.lookup)
  let running = 0
  let failures = 0
  let bytesSent = 0
  let stoppedEarly = false
  let reports: Promise<void> = Promise.resolve()

  const exceeded = () => thresholdExceeded(opts.threshold, failures, total)
  const record = (index: number, result: HostResult, spool: OutputSpool | null) => {
    results[index] = result
    counts[result.status] += 1
    if (isFailure(result.status)) failures += 1
    reports = reports.then(() => report(opts.reporter, result, spool))
  }
  /**
   * A host that does not start: `skipped` with the reason, except when the jump host cannot be
   * had, which is said on every host not yet started (an `error` naming it), whatever fail-fast says.
   */
  const notStarted = (index: number, reason: string) => {
    const target = opts.targets[index]
    const unavailable = opts.signal?.aborted ? null : transport.failed
    const result = unavailable
      ? { ...skippedResult(target, unavailable.message), status: 'error' as const, errorKind: unavailable.kind }
      : skippedResult(target, reason)
    record(index, { ...result, batch: batchOf(index) }, null)
  }
  const skipFrom = (start: number, reason: string) => {
    for (let i = start; i < total; i += 1) notStarted(i, reason)
  }

  const progress = setInterval(() => {
    const finished = Object.values(counts).reduce((a, b) => a + b, 0)
    opts.reporter.progress({ total, finished, running, counts: { ...counts }, bytesSent })
  }, opts.progressIntervalMs ?? 15_000)
  progress.unref()

  const runOne = async (index: number, target: HostTarget) => {
    if (opts.signal?.aborted || (opts.failFast && exceeded())) {
      stoppedEarly ||= !opts.signal?.aborted
      notStarted(index, opts.signal?.aborted ? 'not started: the job was cancelled' : 'not started: max-failures was exceeded and fail-fast is on')
      return
    }
    running += 1
    const spool = opts.spoolDir.spool(opts.maxOutputBytes)
    const started = Date.now()
    let result: Omit<HostResult, 'batch'>
    try {
      // Each attempt reports its own running count; a retry starts again from 0.
      let last = 0
      const onUploadProgress = (bytes: number) => {
        bytesSent += bytes >= last ? bytes - last : bytes
        last = bytes
      }
      result = await runHost(target, spool, opts, transport, onUploadProgress)
    } catch (err) {
      // runSession never throws; this guards the promise that every host ends with one result.
      result = { ...skippedResult(target, `internal error: ${(err as Error).message}`), status: 'error', durationMs: Date.now() - started, attempts: 1 }
    }
    running -= 1
    record(index, { ...result, batch: batchOf(index) }, spool)
  }

  try {
    let start = 0
    for (const [b, size] of batches.entries()) {
      if (b > 0 && !(await betweenBatches(opts, b, batches.length, exceeded(), (reason) => skipFrom(start, reason)))) {
        stoppedEarly ||= !opts.signal?.aborted
        break
      }
      if (opts.batches) opts.reporter.batchStarted?.(b + 1, batches.length, size)
      const slice = opts.targets.slice(start, start + size).map((target, i) => [start + i, target] as const)
      await pMap(slice, ([index, target]) => runOne(index, target), { concurrency: opts.concurrency })
      start += size
    }
  } finally {
    clearInterval(progress)
  }
  await reports
  return {
    results: results.map((r, i) => r ?? { ...skippedResult(opts.targets[i], 'not started'), batch: batchOf(i) }),
    failures,
    thresholdExceeded: exceeded(),
    stoppedEarly,
    cancelled: opts.signal?.aborted ?? false,
    preflight: null,
    rollback: null,
  }
}

/**
 * Before batch `b` (0-based, b > 0): stops the rollout when the threshold is exceeded or the job
 * was cancelled (skipping every later host with the reason), else waits `batchPauseMs`.
 * Resolves true when the next batch may start.
 */
async function betweenBatches(opts: FanoutOptions, b: number, batches: number, exceeded: boolean, skipRest: (reason: string) => void): Promise<boolean> {
  if (exceeded) {
    skipRest(`not started: max-failures was exceeded by batch ${b}/${batches}, so later batches do not start`)
    return false
  }
  const pauseMs = opts.batchPauseMs ?? 0
  if (pauseMs > 0 && !opts.signal?.aborted) {
    opts.reporter.pausing?.(b + 1, batches, new Date(Date.now() + pauseMs))
    await sleep(pauseMs, opts.signal)
  }
  if (opts.signal?.aborted) {
    skipRest('not started: the job was cancelled')
    return false
  }
  return true
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
async function runHost(
  target: HostTarget,
  output: OutputSpool,
  opts: FanoutOptions,
  transport: Transport,
  onUploadProgress?: (bytes: number) => void,
): Promise<Omit<HostResult, 'batch'>> {
  const startedAt = Date.now()
  let attempts = 0
  // Once the host hung up during a short login, every later attempt logs in the ordinary way.
  let shortLogin = opts.session.shortLogin
  for (;;) {
    // Waiting for a (re)connecting bastion is not part of the host's connect-timeout.
    const unavailable = await untilReady(transport, opts.signal)
    if (unavailable === 'cancelled')
      return { ...skippedResult(target, 'not started: the job was cancelled while waiting for the jump host'), durationMs: Date.now() - startedAt, attempts }
    if (unavailable) {
      const outcome: SessionOutcome = {
        status: 'error',
        exitCode: null,
        signal: null,
        error: unavailable.message,
        errorKind: unavailable.kind,
        hostKey: null,
        retryable: false,
      }
      return toResult(target, outcome, attempts, Date.now() - startedAt, output)
    }
    attempts += 1
    const outcome = await runSession({ ...opts.session, shortLogin, target, output, signal: opts.signal, transport, onUploadProgress })
    if (outcome.shortLoginLost) shortLogin = false
    if (!outcome.retryable || attempts > opts.retries || opts.signal?.aborted) {
      return toResult(target, outcome, attempts, Date.now() - startedAt, output)
    }
    const delayMs = backoffDelay(attempts, opts.retryBaseDelayMs ?? 1_000)
    opts.reporter.retrying(target, outcome, attempts, delayMs)
    if (!(await sleep(delayMs, opts.signal))) {
      return toResult(
        target,
        {
          ...outcome,
          status: 'cancelled',
          error: `cancelled: the job was cancelled while waiting to retry (last attempt: ${outcome.error})`,
          errorKind: 'cancelled',
        },
        attempts,
        Date.now() - startedAt,
        output,
      )
    }
  }
}

/** null once the transport can open streams; its error when it cannot; 'cancelled' when the job is cancelled first. */
function untilReady(transport: Transport, signal?: AbortSignal): Promise<TransportError | 'cancelled' | null> {
  if (signal?.aborted) return Promise.resolve('cancelled')
  return new Promise((resolve) => {
    const onAbort = () => resolve('cancelled')
    signal?.addEventListener('abort', onAbort, { once: true })
    transport
      .ready()
      .then(
        () => resolve(null),
        (err: unknown) => resolve(err instanceof TransportError ? err : new TransportError('jump host', String(err), false)),
      )
      .finally(() => signal?.removeEventListener('abort', onAbort))
  })
}

/** Most retries the `retries` input allows: with the capped backoff, at most about 3.5 minutes of waiting for one host. */
export const MAX_RETRIES = 10

/** Longest wait before one retry. */
export const MAX_BACKOFF_MS = 30_000

/**
 * About base, 2×base, 4×base, … up to 20 s, with ±50% jitter so a fleet does not retry in lockstep;
 * never more than MAX_BACKOFF_MS (30 s).
 */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const mean = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS / 1.5)
  return Math.round(mean * (0.5 + random()))
}

function toResult(target: HostTarget, outcome: SessionOutcome, attempts: number, durationMs: number, output: OutputSpool): Omit<HostResult, 'batch'> {
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
    preflight: null,
    changed: outcome.commandStarted ?? false,
    check: null,
    rollback: null,
  }
}

function skippedResult(target: HostTarget, reason: string): Omit<HostResult, 'batch'> {
  return { target, status: 'skipped', exitCode: null, signal: null, error: reason, errorKind: null, durationMs: 0, tail: [], attempts: 0, hostKey: null, preflight: null, changed: false, check: null, rollback: null }
}
