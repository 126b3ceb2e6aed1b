/**
 * The command's channel on a logged-in connection: the early channel (requested right behind the
 * key's signed request in a short login), or the ordinary one after the login; the exec request
 * with the run token; stdout and stderr to the spool; the exit status. Owns the channel's state;
 * the session is told when the command started, could not start, and when its channel closed.
 */
import type { Client, ClientChannel } from 'ssh2'
import type { Authenticator } from '../ssh/auth.js'
import { execOn, openSession } from '../ssh/channel.js'
import { envPrefix } from '../targets/env.js'
import type { OutputSpool } from '../output/spool.js'
import { normalizeSignal, type Exit } from './outcome.js'
import { RUN_TOKEN_NAME } from './stop.js'

export interface CommandEvents {
  /** The session ended: a channel that opens now is closed, never used. */
  over(): boolean
  /** The channel could not be had (`channel`), or the connection was gone (`connection lost`). */
  failed(kind: 'channel' | 'connection lost', message: string): void
  /** The host refused the exec request: the command did not start. */
  refused(message: string): void
  /** The exec request was accepted: the command runs. */
  started(): void
  /** The channel closed and its stdout and stderr ended (every chunk handed to the spool). */
  closed(): void
}

export class Command {
  /**
   * The command's channel requested right behind the key's signed request (short login, OpenSSH):
   * pending until the server confirms or refuses it; open once confirmed, with nothing sent on it
   * until the key's login is known; abandoned when another method logged in or the session
   * ended: then closed as soon as it opens, never used.
   */
  private early: 'none' | 'pending' | 'open' | 'failed' | 'abandoned' = 'none'
  private earlyOpen: ClientChannel | null = null
  /** The ordinary channel for the command was requested (once at most). */
  private channelRequested = false
  /** The command to run, once the session asked for it (`run`). */
  private command: string | null = null
  /** The command's channel, once open (its exec request may still be out). */
  channel: ClientChannel | null = null
  /** Once the exec request is sent the command may be running: never retry after that. */
  execSent = false
  exit: Exit | null = null
  /** The command's channel closed and its stdout and stderr ended. */
  channelClosed = false
  startedAt = 0
  /** Resolves once the command's stdout and stderr ended and every chunk was handed to the spool. */
  outputEnded: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly client: Client,
    private readonly auth: Authenticator,
    private readonly output: OutputSpool,
    private readonly runToken: string,
    private readonly events: CommandEvents,
  ) {}

  /**
   * Called after each authentication request. Only OpenSSH is known to keep a channel opened during
   * authentication for after it: Dropbear exits ("message 90 before userauth"), Go's x/crypto/ssh
   * hangs up, and a server that takes it after another method logged in would confirm a channel we no longer want.
   */
  afterAuthRequest(): void {
    if (this.auth.signedKeyPending && this.auth.serverIsOpenSsh && this.early === 'none') this.openEarly()
  }

  /** Logged in (and prepared): runs `command` on the early channel when the key's signed request logged in, else on an ordinary one. */
  run(command: string): void {
    this.command = command
    if (this.auth.signedKeyPending && (this.early === 'pending' || this.early === 'open')) {
      // The key's signed request logged in: the channel requested behind it is the command's.
      if (this.early === 'open') this.startCommand(this.earlyOpen!)
      return // else its confirmation starts the command
    }
    // Another method logged in: the early channel (if any) was requested before that and is never used.
    this.abandonEarly()
    this.openOrdinary()
  }

  /** Sends a signal request on the command's channel through the protocol; false when it could not go out. */
  signal(name: string): boolean {
    const channel = this.channel as unknown as { outgoing?: { id: number; state: string } } | null
    const protocol = (this.client as unknown as { _protocol?: { signal(id: number, name: string): void } })._protocol
    if (!channel?.outgoing || channel.outgoing.state === 'closed' || !protocol) return false
    try {
      protocol.signal(channel.outgoing.id, name)
      return true
    } catch {
      return false // The connection is already gone: the outcome says so.
    }
  }

  /** The command's channel the ordinary way, after the login. */
  private openOrdinary(): void {
    if (this.channelRequested) return
    this.channelRequested = true
    try {
      openSession(this.client, (err, channel) => {
        if (this.events.over()) return closeQuietly(channel)
        if (err) return this.events.failed('channel', `channel: could not start the command: ${err.message}`)
        this.startCommand(channel!)
      })
    } catch {
      this.events.failed('connection lost', 'connection lost during exec') // not connected any more
    }
  }

  /** Sends the exec request on the command's channel, now open: from here on the command may be running. */
  private startCommand(channel: ClientChannel): void {
    this.channel = channel
    this.earlyOpen = null
    this.execSent = true
    try {
      execOn(channel, envPrefix([{ name: RUN_TOKEN_NAME, value: this.runToken }]) + this.command!, (err) => {
        if (this.events.over()) return closeQuietly(channel)
        if (err) return this.events.refused(err.message)
        this.attach(channel)
      })
    } catch (err) {
      this.events.failed('channel', `channel: could not start the command: ${(err as Error).message}`)
    }
  }

  /**
   * Short login: the command's channel requested right behind the key's signed request, so that
   * the exec request leaves as soon as the server confirms it (one round trip less). Servers that
   * refuse a channel before the login ended answer with a failure: the ordinary request follows.
   * Nothing is sent on the channel before the key's login is known (`run`).
   */
  private openEarly(): void {
    this.early = 'pending'
    try {
      openSession(this.client, (err, channel) => this.onEarly(err, channel))
    } catch {
      this.early = 'failed' // not connected: the close handler reports it
    }
  }

  private onEarly(err: Error | undefined, channel: ClientChannel | undefined): void {
    if (this.early === 'abandoned' || this.events.over()) return closeQuietly(channel)
    if (err) {
      // The channel was refused (opened too early for this server): ask again the ordinary way once logged in.
      this.early = 'failed'
      if (this.command !== null) this.openOrdinary()
      return
    }
    this.early = 'open'
    this.earlyOpen = channel!
    if (this.command !== null) this.startCommand(channel!)
  }

  /** The early channel is not the command's: closed if it is open, and closed as soon as it opens if it is pending. */
  private abandonEarly(): void {
    if (this.early !== 'pending' && this.early !== 'open') return
    closeQuietly(this.earlyOpen ?? undefined)
    this.earlyOpen = null
    this.early = 'abandoned'
  }

  /** The exec request was accepted: output to the spool, the exit status kept, stdin closed at once. */
  private attach(channel: ClientChannel): void {
    this.channel = channel
    this.startedAt = Date.now()
    this.outputEnded = Promise.all([this.output.readFrom(channel), this.output.readFrom(channel.stderr)])
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exit = { code: typeof code === 'number' ? code : null, signal: signal ? normalizeSignal(signal) : null }
    })
    // ssh2 emits 'close' once stdout ended: stderr may still hold chunks, so wait for both.
    channel.on(
      'close',
      () =>
        void this.outputEnded.then(() => {
          this.channelClosed = true
          this.events.closed()
        }),
    )
    this.events.started()
    // stdin is closed at once: the command reads end-of-file.
    channel.end()
  }
}

/** Closes a channel we do not use; a connection already gone closes it anyway. */
function closeQuietly(channel: ClientChannel | undefined): void {
  try {
    channel?.close()
  } catch {
    // not connected any more
  }
}
