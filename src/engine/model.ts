import type { ParsedKey } from 'ssh2'
import type { HostKey } from './trust/known-hosts.js'
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

/** Failures before the command started that are worth another attempt (the host may answer next time). */
export const RETRYABLE_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['refused', 'connect timeout', 'connection lost', 'unreachable'])

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

/** Credentials, tried in this order: key, agent, password (also via keyboard-interactive). */
export interface Credentials {
  /** Best parsed (and decrypted) once for the whole run, as the action's inputs do: text is parsed on every connection. */
  privateKey?: ParsedKey | string
  agent?: string
  password?: string
}

/** Decides whether a presented host key is trusted. */
export interface HostKeyPolicy {
  /** null when trusted, else the reason it is not (without host or fingerprint: the caller adds those). */
  reject(target: HostTarget, key: HostKey): string | null
  /** Host key algorithms to prefer for this host (from the key types already known for it). */
  preferredAlgorithms(target: HostTarget): string[]
  /**
   * True when `key` was refused only for being unknown and a key of another type could still be
   * trusted (pinned by fingerprint, which names no key type): the session then asks the host
   * for its other key types before refusing it.
   */
  askForOtherKeyTypes(target: HostTarget, key: HostKey): boolean
}
