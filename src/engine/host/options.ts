/** What one host's run is given (host/session.ts). */
import type { LookupFunction } from 'node:net'
import type { OutputSpool } from '../output/spool.js'
import type { Prepare } from '../prepare/prepare.js'
import type { Credentials, HostKeyPolicy, HostTarget } from '../model.js'
import type { Transport } from '../ssh/transport.js'
import type { CheckOptions } from './check.js'

export interface SessionOptions {
  target: HostTarget
  /** The full remote command (environment prefix included). */
  command: string
  /** The environment prefix `command` starts with, for a preparation that builds its own (script-file). */
  envPrefix?: string
  credentials: Credentials
  hostKeys: HostKeyPolicy
  connectTimeoutMs: number
  /** 0 = no limit. */
  commandTimeoutMs: number
  output: OutputSpool
  /** Aborting stops the command on the host and ends the session `cancelled`. */
  signal?: AbortSignal
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
  /** Time between TERM and KILL when stopping a command (timeout). */
  killGraceMs?: number
  /** Shorter grace used when the job is cancelled, to fit the runner's deadline. */
  cancelGraceMs?: number
  /** After KILL: how long to wait for the host to confirm the command ended before giving up on it. */
  stopWaitMs?: number
  /** Name resolution (default: the system's, as dns.lookup), for the default transport. */
  lookup?: LookupFunction
  /** How the host's byte stream is obtained (default: a TCP connection of our own). */
  transport?: Transport
  /**
   * Work on the connection after login and before the command (upload, script staging), inside
   * command-timeout; it gives the command to run instead of `command`. No early channel then.
   */
  prepare?: Prepare
  /** Upload bytes sent so far to this host (during the preparation). */
  onUploadProgress?: (bytes: number) => void
  /**
   * The short login (default true): the first authentication request right behind the service
   * request, the key's signed request without the query, and (on OpenSSH, which keeps a channel
   * opened during authentication for after it) the command's channel opened right behind it,
   * each without waiting for the server's answer. Falls back to the ordinary sequence when the
   * server refuses a step (see Authenticator and Session.onEarlyChannel), and to a new connection
   * with the ordinary sequence when it hangs up before the login succeeded.
   */
  shortLogin?: boolean
  /** Preflight without a command: the session ends `success` once logged in (no channel is opened). */
  loginOnly?: boolean
  /** The health check, run over this connection once the command exited 0 (host/check.ts). */
  check?: Omit<CheckOptions, 'signal'>
}
