/**
 * The command's channel in two steps: a session channel opened with no request on it, then the
 * exec request sent on it when the session decides. ssh2's `client.exec` sends the exec request
 * as soon as the server confirms the channel, before its callback runs, so a channel the session
 * has given up (requested ahead of the login, or still opening when the session ended) could
 * still start the command. ssh2 1.x internals; fails loudly if they change.
 */
import type { Client, ClientChannel } from 'ssh2'
import { MAX_WINDOW, PACKET_SIZE } from 'ssh2/lib/Channel.js'

interface ClientInternals {
  _sock?: { writable?: boolean; _readableState?: { ended: boolean } }
  _chanMgr?: { add(handler: unknown): number }
  _protocol?: { session(local: number, window: number, packetSize: number): void }
}

interface ChannelInternals {
  outgoing: { id: number; state: string }
  subtype?: string
  allowHalfOpen?: boolean
  _callbacks?: Array<(failed: boolean | Error) => void>
  _client?: { _protocol?: { exec(remote: number, command: string, wantReply: boolean): void } }
}

/**
 * Opens a session channel and calls `cb` once the server confirmed it (nothing is requested on
 * it) or refused it (the error's `reason` is the server's, as with `client.exec`). Throws when
 * not connected.
 */
export function openSession(client: Client, cb: (err: (Error & { reason?: unknown }) | undefined, channel?: ClientChannel) => void): void {
  const c = client as unknown as ClientInternals
  // As ssh2's own check: a socket that ended its reading side is gone too.
  if (!c._sock?.writable || c._sock._readableState?.ended !== false) throw new Error('Not connected')
  if (typeof c._chanMgr?.add !== 'function' || typeof c._protocol?.session !== 'function')
    throw new Error('ssh2 internals changed: cannot open a session channel')
  const handler = (err: Error | undefined, channel?: ClientChannel) => cb(err, channel)
  handler.type = 'session'
  const local = c._chanMgr.add(handler)
  if (local === -1) return cb(new Error('No free channels available'))
  c._protocol.session(local, MAX_WINDOW, PACKET_SIZE)
}

/** Sends the exec request on a channel from openSession; `cb` gets the server's answer (an error when it refused). */
export function execOn(channel: ClientChannel, command: string, cb: (err?: Error) => void): void {
  const chan = channel as unknown as ChannelInternals
  const protocol = chan._client?._protocol
  if (!Array.isArray(chan._callbacks) || typeof protocol?.exec !== 'function') throw new Error('ssh2 internals changed: cannot send an exec request')
  if (chan.outgoing.state !== 'open') return cb(new Error('Channel is not open'))
  chan._callbacks.push((failed) => {
    if (failed) return cb(failed instanceof Error ? failed : new Error('Unable to exec'))
    chan.subtype = 'exec'
    chan.allowHalfOpen = true
    cb()
  })
  protocol.exec(chan.outgoing.id, command, true)
}
