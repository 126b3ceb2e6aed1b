/** What the fanout is given and gives back, and the reporter it tells the outside world through. */
import type { OutputSpool, SpoolDir } from '../output/spool.js'
import type { Threshold } from '../parse.js'
import type { CheckSettings, HostResult, HostStatus, HostTarget } from '../model.js'

export type { CheckSettings } from '../model.js'
import type { SessionOptions, SessionOutcome } from '../host/session.js'
import type { Transport } from '../ssh/transport.js'
import type { EnvVar } from '../targets/env.js'

/** What the engine tells the outside world. The action layer implements it with @actions/core. */
export interface Reporter {
  /**
   * Called once per host, serially, in finishing order, skipped hosts included (with no spool).
   * `check` holds the health check's last attempt's output, when a check ran. The spools are
   * removed after it resolves.
   */
  hostFinished(result: HostResult, output: OutputSpool | null, check?: OutputSpool | null): Promise<void>
  /** Called every `progressIntervalMs` while hosts run. */
  progress(progress: Progress): void
  /** A connection attempt failed in a way worth retrying; the next one starts after `delayMs`. */
  retrying(target: HostTarget, outcome: SessionOutcome, attempt: number, delayMs: number): void
  /** A rolling batch starts (1-based `batch` of `batches`). */
  batchStarted?(batch: number, batches: number, hosts: number): void
  /** Waiting `batch-pause` before the next batch, until `until`. */
  pausing?(nextBatch: number, batches: number, until: Date): void
  /** Preflight starts on `hosts` hosts. */
  preflightStarted?(hosts: number): void
  /** Preflight ended. */
  preflightFinished?(summary: PreflightSummary): void
  /** The soak check starts on the hosts of `batch` that succeeded. */
  soakStarted?(batch: number, batches: number, hosts: number): void
  /** A host failed the soak check: its result (now `unhealthy`) and the soak check's output. Serial. */
  soakFailed?(result: HostResult, output: OutputSpool | null): Promise<void>
  /** The rollout halted and the rollback starts on `hosts` changed hosts, in `batches` batches, newest first. */
  rollbackStarted?(reason: string, hosts: number, batches: number): void
  /** One host's rollback ended (result.rollback is set): its output. Serial. */
  rollbackFinished?(result: HostResult, output: OutputSpool | null): Promise<void>
  /** Every rollback ended. */
  rollbackDone?(summary: RollbackSummary): void
}

export interface Progress {
  total: number
  finished: number
  running: number
  counts: Record<HostStatus, number>
  /** Upload bytes sent so far, over every host and attempt (0 without upload). */
  bytesSent: number
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
  session: Omit<SessionOptions, 'target' | 'output' | 'signal' | 'check'>
  maxOutputBytes: number
  spoolDir: SpoolDir
  /** Aborted when the job is cancelled. */
  signal?: AbortSignal
  reporter: Reporter
  progressIntervalMs?: number
  /** Rolling batch sizes in host order (summing to the number of targets); omitted: one pool. */
  batches?: number[]
  /** Bake time between batches. */
  batchPauseMs?: number
  /** How hosts are reached (default: a TCP connection of our own to each). */
  transport?: Transport
  /** How one host is reached, when hosts differ (an inventory's bastion per group); overrides `transport`. */
  transportFor?: (target: HostTarget) => Transport
  /**
   * The `env` input: every remote command (the command, preflight-command, check-command,
   * rollback-command, a script-file's run) starts with these variables, then the host's own
   * (HostTarget.inventory.env), which win for a name in both. The commands here are given without them.
   */
  env?: EnvVar[]
  /** Preflight every host before any runs the command; `command` null: log in only. */
  preflight?: { command: string | null }
  check?: CheckSettings
  /**
   * Run on every changed host when the rollout halts (the threshold exceeded, not cancelled):
   * the env, then SSH_FANOUT_ROLLBACK_REASON and SSH_FANOUT_STATUS, then `command`.
   */
  rollback?: { command: string }
}

export interface PreflightSummary {
  hosts: number
  passed: number
  failed: number
  durationMs: number
  /** More hosts failed than max-failures allows: no host ran the command. */
  halted: boolean
}

export interface RollbackSummary {
  /** Why the rollout halted, one line (what SSH_FANOUT_ROLLBACK_REASON says). */
  reason: string
  /** Changed hosts the rollback ran on (M). */
  hosts: number
  /** Rollbacks that exited 0 (N). */
  succeeded: number
  /** Rollbacks that did not (K = M - N). */
  failed: number
  durationMs: number
}

export interface FanoutResult {
  /** One result per target, in the order of `targets`. */
  results: HostResult[]
  failures: number
  thresholdExceeded: boolean
  /** Hosts left unstarted because fail-fast tripped, a batch exceeded max-failures, or preflight halted. */
  stoppedEarly: boolean
  cancelled: boolean
  /** Preflight, when it ran. */
  preflight: PreflightSummary | null
  /** The rollback, when the rollout halted with rollback-command set and the command had reached some host; else null. */
  rollback: RollbackSummary | null
}
