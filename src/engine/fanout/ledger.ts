/**
 * The run's book: one result per host, the counts and failures the threshold reads, and the
 * one queue every report goes through (hosts are reported serially, in finishing order).
 */
import type { OutputSpool } from '../output/spool.js'
import { thresholdExceeded, type Threshold } from '../parse.js'
import { isFailure, type HostResult, type HostStatus, type HostTarget } from '../model.js'
import type { Reporter } from './types.js'

export function emptyCounts(): Record<HostStatus, number> {
  return { success: 0, failed: 0, unhealthy: 0, error: 0, timeout: 0, skipped: 0, cancelled: 0 }
}

export class Ledger {
  readonly results: Array<HostResult | undefined>
  readonly counts = emptyCounts()
  failures = 0
  running = 0
  bytesSent = 0
  /** With preflight: how each host that ran it did. */
  readonly preflight = new Map<number, 'ok' | 'failed'>()
  private reports: Promise<void> = Promise.resolve()

  constructor(
    readonly targets: HostTarget[],
    private readonly threshold: Threshold,
    private readonly reporter: Reporter,
    /** The batch each host was planned in (1-based), null without batches. */
    readonly batchOf: (index: number) => number | null,
  ) {
    this.results = new Array<HostResult | undefined>(targets.length)
  }

  exceeded(): boolean {
    return thresholdExceeded(this.threshold, this.failures, this.targets.length)
  }

  recorded(index: number): boolean {
    return this.results[index] !== undefined
  }

  /** The host's one result (its batch and preflight filled in), reported through the queue; the spools are removed after. */
  record(index: number, result: Omit<HostResult, 'batch' | 'preflight'>, spool: OutputSpool | null, check: OutputSpool | null = null): void {
    const full: HostResult = { ...result, batch: this.batchOf(index), preflight: this.preflight.get(index) ?? null }
    this.results[index] = full
    this.counts[full.status] += 1
    if (isFailure(full.status)) this.failures += 1
    void this.enqueue(async () => {
      try {
        await this.reporter.hostFinished(full, spool, check)
      } catch (err) {
        // A failure to print (e.g. a closed stdout) must not stop the other hosts' reports or the results.
        process.stderr.write(`ssh-fanout: could not print the log of ${full.target.label}: ${(err as Error).message}\n`)
      } finally {
        await spool?.dispose()
        await check?.dispose()
      }
    })
  }

  /** A recorded host's result changes (the soak check found it unhealthy): the counts follow. */
  revise(index: number, result: HostResult): void {
    const before = this.results[index]!
    this.counts[before.status] -= 1
    if (isFailure(before.status)) this.failures -= 1
    this.results[index] = result
    this.counts[result.status] += 1
    if (isFailure(result.status)) this.failures += 1
  }

  /** Runs `report` through the queue (a later report of a host: its soak check, its rollback), then removes its spool. */
  reportAgain(report: () => Promise<void> | undefined, spool: OutputSpool): Promise<void> {
    return this.enqueue(async () => {
      try {
        await report()
      } finally {
        await spool.dispose()
      }
    })
  }

  /** Runs `job` after every report queued so far (and before any queued later); never rejects. */
  enqueue(job: () => Promise<void>): Promise<void> {
    this.reports = this.reports.then(job).catch((err: unknown) => {
      process.stderr.write(`ssh-fanout: could not print a report: ${(err as Error).message}\n`)
    })
    return this.reports
  }

  /** Resolves once every report queued so far is printed. */
  settled(): Promise<void> {
    return this.reports
  }
}
