/** Builders for engine results, shared by the action-layer tests (summary, outputs, report). */
import type { FanoutResult } from '../../src/engine/fanout/fanout.js'
import { isFailure, type HostResult, type HostStatus, type HostTarget } from '../../src/engine/model.js'

export function target(host: string, port = 22, username = 'deploy'): HostTarget {
  return { host, port, username, label: port === 22 ? host : `${host}:${port}` }
}

const STATUS_DEFAULTS: Record<HostStatus, Partial<HostResult>> = {
  success: { exitCode: 0, changed: true },
  failed: { exitCode: 1, changed: true },
  unhealthy: { exitCode: 1, changed: true },
  error: { error: 'connection refused', errorKind: 'refused' },
  timeout: { error: 'command timed out after 10 s', exitCode: null },
  skipped: { error: 'not started: max-failures was exceeded and fail-fast is on', attempts: 0, durationMs: 0 },
  cancelled: { error: 'cancelled: the job was cancelled', errorKind: 'cancelled' },
}

/** A host result with sensible fields for its status; `over` replaces any of them. */
export function hostResult(host: string | HostTarget, status: HostStatus, over: Partial<HostResult> = {}): HostResult {
  return {
    target: typeof host === 'string' ? target(host) : host,
    status,
    exitCode: null,
    signal: null,
    error: null,
    errorKind: null,
    durationMs: 1234,
    tail: [],
    attempts: 1,
    batch: null,
    hostKey: null,
    preflight: null,
    changed: false,
    check: null,
    rollback: null,
    ...STATUS_DEFAULTS[status],
    ...over,
  }
}

export function fanoutResult(results: HostResult[], over: Partial<FanoutResult> = {}): FanoutResult {
  return {
    results,
    failures: results.filter((r) => isFailure(r.status)).length,
    thresholdExceeded: false,
    stoppedEarly: false,
    cancelled: false,
    preflight: null,
    rollback: null,
    ...over,
  }
}
