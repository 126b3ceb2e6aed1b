/** Types shared by the engine and the action layer. No @actions/* imports here. */

export type HostStatus = 'success' | 'failed' | 'error' | 'timeout' | 'skipped' | 'cancelled'

/** Statuses that count as failures against `max-failures`. */
export const FAILURE_STATUSES: ReadonlySet<HostStatus> = new Set<HostStatus>(['failed', 'error', 'timeout', 'cancelled'])

export function isFailure(status: HostStatus): boolean {
  return FAILURE_STATUSES.has(status)
}

/** One host to run on, fully resolved (user and port defaults applied). */
export interface HostTarget {
  /** Bare host name or address (IPv6 without brackets). */
  host: string
  port: number
  username: string
  /**
   * `host` when port is 22, else `host:port` (IPv6 in brackets), prefixed with `user@` when another
   * target has the same host and port. Used in logs and outputs; unique within a run.
   */
  label: string
}

/** Stable classes of errors, so users can tell at a glance what went wrong. */
export type ErrorKind =
  | 'dns'
  | 'refused'
  | 'connect timeout'
  | 'handshake'
  | 'authentication'
  | 'host key'
  | 'connection lost'
  | 'unreachable'
  | 'channel'
  | 'cancelled'
  | 'jump host'
  | 'upload'

export interface HostKeyInfo {
  /** e.g. `ssh-ed25519` */
  type: string
  /** `SHA256:...` as `ssh-keygen -l` prints it */
  fingerprint: string
}

export interface HostResult {
  target: HostTarget
  status: HostStatus
  exitCode: number | null
  signal: string | null
  /** Human-readable reason for `error`, `timeout`, `cancelled`, `skipped` (null on success/failed). */
  error: string | null
  errorKind: ErrorKind | null
  durationMs: number
  /** Last lines of output (stdout and stderr interleaved), at most TAIL_LINES. */
  tail: string[]
  /** Connection attempts made (0 when skipped). */
  attempts: number
  /** The rolling batch the host ran in (1-based), or null without batches. */
  batch: number | null
  /** Host key the server presented, when the handshake got that far. */
  hostKey: HostKeyInfo | null
}

export const TAIL_LINES = 20
