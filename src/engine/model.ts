import type { ParsedKey } from 'ssh2'
import type { HostKey } from './trust/known-hosts.js'
/** Types shared by the engine and the action layer. No @actions/* imports here. */

/** `unhealthy`: the command exited 0 but its health check (check-command) never passed. */
export type HostStatus = 'success' | 'failed' | 'unhealthy' | 'error' | 'timeout' | 'skipped' | 'cancelled'

/** Statuses that count as failures against `max-failures`. */
export const FAILURE_STATUSES: ReadonlySet<HostStatus> = new Set<HostStatus>(['failed', 'unhealthy', 'error', 'timeout', 'cancelled'])

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
  /** From an inventory: the host's inventory name (its `label` too), its groups (group_names) and its own settings. */
  inventory?: InventoryEntry
}

/** What an inventory says of one host beyond where to connect. */
export interface InventoryEntry {
  name: string
  /** As Ansible's group_names: sorted, without `all`. */
  groups: string[]
  /** This host's own credentials (its key or password), used instead of the run's. */
  credentials?: Credentials
  /** Variables for this host's commands, after the run's `env` (a name in both takes this value). */
  env?: Array<{ name: string; value: string }>
  /** The bastion this host is reached through (a key the fanout's `transportFor` knows); none: the run's default. */
  jump?: string
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
  /** With preflight: `ok` when the host passed it, `failed` when it did not; null without preflight. */
  preflight: 'ok' | 'failed' | null
  /** The command's exec request was sent in this run: the host may have changed (what a rollback undoes). */
  changed: boolean
  /** The health check (check-command), when it ran on this host; else null. */
  check: HostCheck | null
  /** The rollback-command's run on this host, when the rollout halted and it ran; else null. */
  rollback: HostRollback | null
}

/** The health check after each command that exits 0 (check-command, check-interval, check-timeout). */
export interface CheckSettings {
  /** The remote command (the env prefix is added per host). */
  command: string
  intervalMs: number
  timeoutMs: number
}

/** The health check's attempts on one host, after its command exited 0. */
export interface HostCheck {
  /** Attempts made over the command's connection (the soak check not included). */
  attempts: number
  /** Attempts check-timeout leaves room for (those starting before it): `12` for 1m every 5s. */
  planned: number
  /** The last attempt's exit code (the soak check's when it failed); null when it ended without one. */
  exitCode: number | null
  /** From the first attempt's start to the verdict. */
  durationMs: number
  /** The soak check at the end of batch-pause: `ok`, `failed`, or null when none ran. */
  soak: 'ok' | 'failed' | null
  /** One line per attempt, as the log shows them: `check 3/12: exit 7`, the soak check's last. */
  log: string[]
}

/** How the rollback-command ended on one host. */
export interface HostRollback {
  status: 'success' | 'failed' | 'error' | 'timeout'
  exitCode: number | null
  durationMs: number
  /** Its last output lines (stdout and stderr interleaved), at most TAIL_LINES. */
  tail: string[]
  /** Why it did not run to an exit status (error, timeout); null when it did. */
  error: string | null
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
