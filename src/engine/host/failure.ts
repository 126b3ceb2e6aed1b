/**
 * How a host session words a failure of its connection: a client error (as ssh/login.ts
 * classifies it) or the connection's close, before the command ran or while it ran. The bastion
 * words the same classification its own way (ssh/jump.ts). Pure functions.
 */
import type { Authenticator } from '../ssh/auth.js'
import type { ClientErrorCause } from '../ssh/login.js'
import { classifySocketError } from '../ssh/transport.js'
import type { ErrorKind } from '../model.js'

/** An error outcome to be: `retryable` unset means the kind decides (RETRYABLE_KINDS); `shortLoginLost`: the login was cut short. */
export interface Failure {
  kind: ErrorKind
  message: string
  retryable?: boolean
  shortLoginLost?: boolean
}

const HUNG_UP_IN_HANDSHAKE = 'handshake: the host closed the connection during the SSH handshake'

/**
 * A client error during the login or while the command's channel opened (`phase`: connect, handshake, auth, exec);
 * `cutShort`: what the short login sent ahead may be why the host hung up (an ordinary login is worth a try).
 */
export function clientErrorFailure(c: ClientErrorCause, phase: string, auth: Authenticator, cutShort: boolean): Failure {
  if (c.cause === 'host key') return { kind: 'host key', message: c.message }
  if (c.cause === 'authentication') return { kind: 'authentication', message: auth.failureMessage() }
  // The server disconnected during authentication, e.g. OpenSSH's "Too many authentication failures" (MaxAuthTries).
  if (c.cause === 'auth disconnect') return { kind: 'authentication', message: `${auth.failureMessage()}; the server disconnected: ${c.detail}` }
  // Any hang-up before the login succeeded, whatever was tried by then: the next login is an ordinary one.
  const lost = cutShort ? { shortLoginLost: true } : {}
  if (c.cause === 'socket') {
    const [kind, message] = classifySocketError(c.err)
    return { ...lost, kind: kind === 'refused' ? kind : 'connection lost', message: `${message} (during ${phase})` }
  }
  if (c.cause === 'keepalive') return { ...lost, kind: 'connection lost', message: `connection lost during ${phase}: no keepalive reply` }
  // The host hung up mid-handshake (ssh2: "Connection lost before handshake"): transient, worth a retry.
  // Anything else here is a protocol problem (no common algorithm, bad packet) that a retry won't fix.
  return { ...lost, kind: 'handshake', message: c.hungUp ? HUNG_UP_IN_HANDSHAKE : `handshake: ${c.detail}`, retryable: c.hungUp }
}

/** The connection closed during the login or while the command's channel opened; `jumpLost`: the bastion's reason. */
export function closedFailure(phase: string, jumpLost: string | null | undefined, cutShort: boolean): Failure {
  if (jumpLost) return { kind: 'connection lost', message: `${jumpLost} (during ${phase})`, retryable: true }
  const lost = cutShort ? { shortLoginLost: true } : {}
  if (phase === 'handshake') return { ...lost, kind: 'handshake', message: HUNG_UP_IN_HANDSHAKE, retryable: true }
  return { ...lost, kind: 'connection lost', message: `connection lost during ${phase}` }
}

/** The connection closed while the command ran, before any exit status; `lostReason`: the client's error, if one came. */
export function lostWhileRunning(elapsed: string, jumpLost: string | null | undefined, lostReason: string | null): Failure {
  if (jumpLost) return { kind: 'connection lost', message: `${jumpLost} (the command had run ${elapsed})` }
  const why = lostReason ? ` (${lostReason})` : ''
  return { kind: 'connection lost', message: `connection lost after ${elapsed}${why}` }
}
