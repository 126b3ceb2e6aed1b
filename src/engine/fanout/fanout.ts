/**
 * The run over every host: preflight (preflight.ts) → the rollout, batch after batch, with the
 * soak check at the end of each batch-pause (soak.ts) → the rollback when it halted
 * (rollback.ts). Every target ends with exactly one result (ledger.ts).
 */
import pMap from 'p-map'
import { sleep } from '../timers.js'
import { DirectTransport, type Transport } from '../ssh/transport.js'
import { pinnedToPreflight } from '../trust/preflight-pin.js'
import { runHost, skippedResult, type HostRunContext } from './attempts.js'
import { Ledger } from './ledger.js'
import { runPreflight } from './preflight.js'
import { runRollback } from './rollback.js'
import { soakCheck } from './soak.js'
import type { FanoutOptions, FanoutResult, PreflightSummary, RollbackSummary } from './types.js'

export type { FanoutOptions, FanoutResult, Progress, Reporter } from './types.js'
export { backoffDelay, MAX_BACKOFF_MS, MAX_RETRIES } from './attempts.js'

/**
 * Runs the session on every target with bounded concurrency, batch after batch when rolling
 * batches are given. Every target ends with exactly one result.
 */
export async function fanout(opts: FanoutOptions): Promise<FanoutResult> {
  const total = opts.targets.length
  const batches = opts.batches ?? [total]
  // Every host keeps the batch it was planned in, also when it never starts.
  const plannedBatch = opts.batches ? batches.flatMap((size, b) => new Array<number>(size).fill(b + 1)) : []
  const ledger = new Ledger(opts.targets, opts.threshold, opts.reporter, (index) => plannedBatch[index] ?? null)
  const transport: Transport = opts.transport ?? new DirectTransport(opts.session.lookup)
  const transportFor = opts.transportFor ?? (() => transport)
  const base: HostRunContext = {
    session: opts.session,
    retries: opts.retries,
    retryBaseDelayMs: opts.retryBaseDelayMs,
    signal: opts.signal,
    reporter: opts.reporter,
    transportFor,
    env: opts.env ?? [],
  }
  let stoppedEarly = false
  let preflight: PreflightSummary | null = null
  // After preflight, every connection (the command, the soak check, the rollback) must show the key the host showed there.
  let hostKeys = opts.session.hostKeys

  /**
   * A host that does not start: `skipped` with the reason, except when the jump host cannot be
   * had, which is said on every host not yet started (an `error` naming it), whatever fail-fast says.
   */
  const notStarted = (index: number, reason: string) => {
    const unavailable = opts.signal?.aborted ? null : transportFor(opts.targets[index]).failed
    const skipped = skippedResult(opts.targets[index], reason)
    ledger.record(index, unavailable ? { ...skipped, status: 'error', error: unavailable.message, errorKind: unavailable.kind } : skipped, null)
  }
  const skipRest = (reason: string) => {
    for (let i = 0; i < total; i += 1) if (!ledger.recorded(i)) notStarted(i, reason)
  }

  const progress = setInterval(() => {
    const finished = Object.values(ledger.counts).reduce((a, b) => a + b, 0)
    opts.reporter.progress({ total, finished, running: ledger.running, counts: { ...ledger.counts }, bytesSent: ledger.bytesSent })
  }, opts.progressIntervalMs ?? 15_000)
  progress.unref()

  try {
    if (opts.preflight && total > 0) {
      const pf = await runPreflight(opts, ledger, base)
      preflight = pf.summary
      hostKeys = pinnedToPreflight(opts.session.hostKeys, pf.keys)
    }
    if (opts.signal?.aborted) {
      skipRest('not started: the job was cancelled')
    } else if (preflight?.halted) {
      stoppedEarly = true
      skipRest(`not started: preflight failed on ${preflight.failed} ${preflight.failed === 1 ? 'host' : 'hosts'}`)
    } else {
      const ctx: HostRunContext = { ...base, session: { ...opts.session, hostKeys } }
      stoppedEarly = await rollout(opts, ledger, ctx, batches, notStarted, skipRest)
    }
  } finally {
    clearInterval(progress)
  }
  await ledger.settled()
  let rollback: RollbackSummary | null = null
  // Nothing to undo when the command reached no host (e.g. preflight halted the run).
  if (opts.rollback && ledger.exceeded() && !opts.signal?.aborted && ledger.results.some((r) => r?.changed)) {
    rollback = await runRollback(opts, ledger, { ...base, session: { ...opts.session, hostKeys } })
    await ledger.settled()
  }
  return {
    results: ledger.results.map((r, i) => r ?? { ...skippedResult(opts.targets[i], 'not started'), batch: ledger.batchOf(i), preflight: null }),
    failures: ledger.failures,
    thresholdExceeded: ledger.exceeded(),
    stoppedEarly,
    cancelled: opts.signal?.aborted ?? false,
    preflight,
    rollback,
  }
}

/** The batches in turn (hosts that failed preflight are not run). True when it stopped before every host started. */
async function rollout(
  opts: FanoutOptions,
  ledger: Ledger,
  ctx: HostRunContext,
  batches: number[],
  notStarted: (index: number, reason: string) => void,
  skipRest: (reason: string) => void,
): Promise<boolean> {
  let stoppedEarly = false
  const check = opts.check ? { ...opts.check, spool: () => opts.spoolDir.spool(opts.maxOutputBytes) } : undefined
  const session = { ...ctx.session, check }
  const runOne = async (index: number) => {
    if (opts.signal?.aborted || (opts.failFast && ledger.exceeded())) {
      stoppedEarly ||= !opts.signal?.aborted
      return notStarted(index, opts.signal?.aborted ? 'not started: the job was cancelled' : 'not started: max-failures was exceeded and fail-fast is on')
    }
    ledger.running += 1
    const spool = opts.spoolDir.spool(opts.maxOutputBytes)
    // Each attempt reports its own running count; a retry starts again from 0.
    let last = 0
    const onUploadProgress = (bytes: number) => {
      ledger.bytesSent += bytes >= last ? bytes - last : bytes
      last = bytes
    }
    try {
      const { result, checkOutput } = await runHost(opts.targets[index], spool, { ...ctx, session }, onUploadProgress)
      ledger.record(index, result, spool, checkOutput)
    } catch (err) {
      // runHost never throws; this guards the promise that every host ends with one result.
      ledger.record(index, { ...skippedResult(opts.targets[index], `internal error: ${(err as Error).message}`), status: 'error', attempts: 1 }, spool)
    } finally {
      ledger.running -= 1
    }
  }
  let start = 0
  for (const [b, size] of batches.entries()) {
    if (b > 0 && !(await betweenBatches(opts, ledger, ctx, b, batches.length, skipRest))) {
      stoppedEarly ||= !opts.signal?.aborted
      break
    }
    const slice = Array.from({ length: size }, (_, i) => start + i).filter((index) => !ledger.recorded(index))
    if (opts.batches) opts.reporter.batchStarted?.(b + 1, batches.length, slice.length)
    await pMap(slice, runOne, { concurrency: opts.concurrency })
    start += size
  }
  return stoppedEarly
}

/**
 * Before batch `b` (0-based, b > 0): stops the rollout when the threshold is exceeded or the job
 * was cancelled (skipping every later host with the reason), else waits `batchPauseMs` and runs
 * the soak check on the batch just finished. Resolves true when the next batch may start.
 */
async function betweenBatches(
  opts: FanoutOptions,
  ledger: Ledger,
  ctx: HostRunContext,
  b: number,
  batches: number,
  skipRest: (reason: string) => void,
): Promise<boolean> {
  const halt = (why: string) => {
    skipRest(`not started: max-failures was exceeded by batch ${b}/${batches}${why}, so later batches do not start`)
    return false
  }
  if (ledger.exceeded()) return halt('')
  const pauseMs = opts.batchPauseMs ?? 0
  if (pauseMs > 0 && !opts.signal?.aborted) {
    opts.reporter.pausing?.(b + 1, batches, new Date(Date.now() + pauseMs))
    await sleep(pauseMs, opts.signal)
    if (opts.check && !opts.signal?.aborted) {
      await soakCheck(opts, opts.check, ledger, ctx, b, batches)
      if (ledger.exceeded() && !opts.signal?.aborted) return halt(' (its soak check)')
    }
  }
  if (opts.signal?.aborted) {
    skipRest('not started: the job was cancelled')
    return false
  }
  return true
}
