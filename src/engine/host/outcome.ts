/** How one attempt on a host ended: the SessionOutcome and the messages that explain it. Pure functions. */
import { formatSeconds } from '../format.js'
import type { ErrorKind, HostCheck, HostKeyInfo, HostStatus } from '../model.js'
import type { OutputSpool } from '../output/spool.js'

/** How one attempt ended. `retryable` tells the caller whether another attempt is allowed. */
export interface SessionOutcome {
  status: Exclude<HostStatus, 'skipped'>
  exitCode: number | null
  signal: string | null
  error: string | null
  errorKind: ErrorKind | null
  hostKey: HostKeyInfo | null
  /** A transient failure before the command started (refused, reset, timeout, …): worth another attempt. */
  retryable: boolean
  /** The host hung up during a short login: another attempt logs in the ordinary way. */
  shortLoginLost?: boolean
  /** The command's exec request was sent (set by the session on every outcome): the host may have changed. */
  commandStarted?: boolean
  /** The health check, when it ran (the command exited 0 and check-command is set). */
  check?: CheckRun
}

/** How the check ended: it passed, never passed, the connection was lost, or the job was cancelled. */
export type CheckVerdict = 'passed' | 'failed' | 'lost' | 'cancelled'

export interface CheckRun {
  verdict: CheckVerdict
  report: Omit<HostCheck, 'soak'>
  /** The last attempt's signal (Node's name), when it was killed by one. */
  signal: string | null
  /** The last attempt's output (null when no attempt ran). */
  output: OutputSpool | null
  /** What ended the last attempt, for messages: `exit 7`, `connection lost`, … */
  last: string
}

/** A stop we started (command timeout or cancellation). */
export interface StopRecord {
  status: 'timeout' | 'cancelled'
  /** Why, e.g. `command timed out after 1 s`. */
  what: string
  /** The command had already exited when the stop began: its exit status decides the outcome. */
  afterExit: boolean
  /** Signals sent so far, in order. */
  signals: string[]
}

/** The command's exit status or signal (Node's names: `SIGKILL`). */
export interface Exit {
  code: number | null
  signal: string | null
}

/** What a stop learnt about the command, besides its exit: the connection closed during it, the host answered after KILL. */
export interface StopFacts {
  lostWhileStopping: boolean
  answeredStop: boolean
}

const base = (hostKey: HostKeyInfo | null) => ({ hostKey, retryable: false })

export function errorOutcome(hostKey: HostKeyInfo | null, kind: ErrorKind, message: string, retryable: boolean): SessionOutcome {
  return { ...base(hostKey), status: 'error', exitCode: null, signal: null, error: message, errorKind: kind, retryable }
}

/** Logged in, nothing run (preflight without a command). */
export function loggedInOutcome(hostKey: HostKeyInfo | null): SessionOutcome {
  return { ...base(hostKey), status: 'success', exitCode: null, signal: null, error: null, errorKind: null }
}

export function cancelledOutcome(hostKey: HostKeyInfo | null, message: string): SessionOutcome {
  return { ...base(hostKey), status: 'cancelled', exitCode: null, signal: null, error: message, errorKind: 'cancelled' }
}

/** command-timeout ran out before the command was run (during the preparation). */
export function timedOutOutcome(hostKey: HostKeyInfo | null, message: string): SessionOutcome {
  return { ...base(hostKey), status: 'timeout', exitCode: null, signal: null, error: message, errorKind: null }
}

/** Ends a stop begun before the command could have started (no exec request sent, or it was refused). */
export function notStartedOutcome(hostKey: HostKeyInfo | null, stop: StopRecord, why: string): SessionOutcome {
  return {
    ...base(hostKey),
    status: stop.status,
    exitCode: null,
    signal: null,
    error: `${stop.what}; ${why}`,
    errorKind: stop.status === 'cancelled' ? 'cancelled' : null,
  }
}

/** The outcome once the command's channel closed (or we gave up waiting for it). */
export function commandOutcome(
  hostKey: HostKeyInfo | null,
  run: { stop: StopRecord | null; facts: StopFacts; exit: Exit | null; startedAt: number },
): SessionOutcome {
  const { stop, exit } = run
  const exitFields = { exitCode: exit?.code ?? null, signal: exit?.signal ?? null }
  if (stop && !stop.afterExit) {
    return {
      ...base(hostKey),
      status: stop.status,
      ...exitFields,
      error: `${stop.what}; ${stopReport(stop, exit, run.facts)}`,
      errorKind: stop.status === 'cancelled' ? 'cancelled' : null,
    }
  }
  if (exit === null) {
    const elapsed = formatSeconds(Date.now() - run.startedAt)
    return {
      ...base(hostKey),
      status: 'error',
      exitCode: null,
      signal: null,
      error: `connection lost after ${elapsed}: the channel closed without an exit status`,
      errorKind: 'connection lost',
    }
  }
  if (exit.code === 0) return { ...base(hostKey), status: 'success', exitCode: 0, signal: null, error: null, errorKind: null }
  return { ...base(hostKey), status: 'failed', ...exitFields, error: null, errorKind: null }
}

/** What is known about the command after we tried to stop it. */
function stopReport(stop: StopRecord, exit: Exit | null, facts: StopFacts): string {
  const sent = stop.signals.join(', then ') || 'no signal'
  if (exit !== null) return `stopped on the host (${sent})`
  if (facts.lostWhileStopping) return `${sent} sent; the connection closed before the command ended, so whether it stopped is unknown`
  if (facts.answeredStop) return `${sent} sent, but the command had not ended when the session was closed, so it may still be running on the host`
  return `${sent} sent; the host did not answer, so whether the command stopped is unknown`
}

/** Signal names as Node writes them: `SIGKILL` (OpenSSH sends `KILL`). */
export function normalizeSignal(name: string): string {
  return name.startsWith('SIG') ? name : `SIG${name}`
}

/**
 * The outcome of a command that exited 0, once its health check ended: `success` when it passed;
 * `unhealthy` when it never did (the last attempt's exit code); `error` when the connection was
 * lost, `cancelled` when the job was, before the check could decide.
 */
export function checkedOutcome(exited: SessionOutcome, run: CheckRun, timeoutMs: number): SessionOutcome {
  const { attempts, planned, exitCode } = run.report
  const after = `${attempts}/${planned} ${attempts === 1 ? 'attempt' : 'attempts'}`
  switch (run.verdict) {
    case 'passed':
      return { ...exited, check: run }
    case 'failed':
      return {
        ...exited,
        status: 'unhealthy',
        exitCode,
        signal: run.signal,
        error: `check-command did not pass within check-timeout (${formatSeconds(timeoutMs)}): ${after}, the last: ${run.last}`,
        check: run,
      }
    case 'lost':
      return {
        ...exited,
        status: 'error',
        exitCode: null,
        errorKind: 'connection lost',
        error: `connection lost during the health check (${attempts === 0 ? 'before its first attempt' : `after ${after}`}: ${run.last}); the command had exited 0`,
        check: run,
      }
    case 'cancelled':
      return {
        ...exited,
        status: 'cancelled',
        exitCode: null,
        errorKind: 'cancelled',
        error: `cancelled: the job was cancelled during the health check (after ${after}); the command had exited 0`,
        check: run,
      }
  }
}
