/** The jump host: every target through ONE SSH session to a bastion (direct-tcpip channels, as `ssh -J`). */
import type { LookupFunction } from 'node:net'
import type ssh2 from 'ssh2'
import { classifyClientError, Login, STALLED_DURING } from './login.js'
import { askingForOtherKeyTypes, namingEveryKey, type HandshakeTry } from '../trust/host-key-check.js'
import type { Credentials, HostKeyInfo, HostKeyPolicy, HostTarget } from '../model.js'
import { sleep } from '../timers.js'
import { socketError, tcpOpen, TransportError, type Link, type Transport } from './transport.js'

export interface JumpHostOptions {
  /** The bastion, with its own user and port. */
  bastion: HostTarget
  credentials: Credentials
  hostKeys: HostKeyPolicy
  /** For each attempt: TCP connect, handshake and authentication. */
  connectTimeoutMs: number
  /** Extra attempts for transient failures (as for targets). */
  retries: number
  /** Wait before attempt `attempt + 1` (the fan-out's backoff). */
  backoff: (attempt: number) => number
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
  lookup?: LookupFunction
  /** What the bastion session does, for the log. */
  onEvent?: (event: JumpEvent) => void
}

export type JumpEvent =
  | { type: 'connected'; attempts: number; hostKey: HostKeyInfo }
  | { type: 'retrying'; error: string; attempt: number; delayMs: number }
  | { type: 'lost'; reason: string }
  /**
   * `error` is what every host is told (`jump host X unavailable: <reason>`); `reason` is why, alone;
   * `afterLoss` is why the session it was reconnecting had ended, or null when it never connected.
   */
  | { type: 'failed'; error: string; reason: string; afterLoss: string | null }

interface BastionSession {
  client: ssh2.Client
  hostKey: HostKeyInfo
  /** Set when this session ended: why, for the streams that went through it. */
  lost: string | null
}

/**
 * Every target through ONE SSH session to a bastion (direct-tcpip channels), so a large fleet
 * costs the bastion one login, not one per host (OpenSSH's MaxStartups counts unauthenticated
 * connections). If the session drops, the next `ready()` reconnects once (with retries);
 * if that fails, every later host fails at once, naming the bastion.
 */
export class JumpTransport implements Transport {
  private current: Promise<BastionSession> | null = null
  /** The session `current` resolved to, while it is up. */
  private live: BastionSession | null = null
  private failure: TransportError | null = null
  private failureReason: string | null = null
  /** Why the last session that was up ended (null while none was lost). */
  private lastLost: string | null = null
  private closed = false
  /** The short login (the first flight, the first request sent ahead); off once the bastion hung up on it. */
  private shortLogin = true
  private readonly cleanups = new Set<() => void>()
  /** Aborted by close(): cuts a wait between bastion attempts short. */
  private readonly closing = new AbortController()

  constructor(private readonly opts: JumpHostOptions) {}

  get label(): string {
    return this.opts.bastion.label
  }

  /** Why the bastion cannot be had (every later host fails with it), or null. */
  get failed(): TransportError | null {
    return this.failure
  }

  /** The reason alone (`failed` says `jump host X unavailable: <reason>`), or null. */
  get unavailableReason(): string | null {
    return this.failureReason
  }

  /** Why a session that was up ended mid-run, or null: with `failed`, the bastion was lost and could not be reconnected. */
  get lostMidRun(): string | null {
    return this.lastLost
  }

  async ready(): Promise<void> {
    await this.session()
  }

  async open(target: HostTarget, signal: AbortSignal): Promise<Link> {
    const session = await this.session()
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new TransportError('cancelled', 'cancelled', false))
      let settled = false
      const onAbort = () => {
        settled = true
        reject(new TransportError('cancelled', 'cancelled', false))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        session.client.forwardOut('127.0.0.1', 0, target.host, target.port, (err, channel) => {
          signal.removeEventListener('abort', onAbort)
          if (settled) {
            channel?.destroy()
            return
          }
          if (err) return reject(this.forwardError(err, target))
          resolve({ stream: channel, lostReason: () => session.lost })
        })
      } catch (err) {
        signal.removeEventListener('abort', onAbort)
        reject(new TransportError('connection lost', `connection lost: jump host ${this.label}: ${(err as Error).message}`, true))
      }
    })
  }

  close(): void {
    this.closed = true
    this.closing.abort()
    for (const cleanup of this.cleanups) cleanup()
    this.cleanups.clear()
    void this.current?.then(
      (s) => s.client.end(),
      () => undefined,
    )
  }

  private session(): Promise<BastionSession> {
    if (this.failure) return Promise.reject(this.failure)
    this.current ??= this.connectWithRetries().catch((err: TransportError) => {
      this.failure = this.unavailable(err)
      this.failureReason = err.message
      this.opts.onEvent?.({ type: 'failed', error: this.failure.message, reason: err.message, afterLoss: this.lastLost })
      throw this.failure
    })
    return this.current
  }

  private async connectWithRetries(): Promise<BastionSession> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const session = await this.connectChecked()
        this.live = session
        this.opts.onEvent?.({ type: 'connected', attempts: attempt, hostKey: session.hostKey })
        return session
      } catch (err) {
        const error = err as TransportError
        if (!error.retryable || attempt > this.opts.retries || this.closed) throw error
        const delayMs = this.opts.backoff(attempt)
        this.opts.onEvent?.({ type: 'retrying', error: error.message, attempt, delayMs })
        if (!(await sleep(delayMs, this.closing.signal))) throw error
      }
    }
  }

  private unavailable(err: TransportError): TransportError {
    return new TransportError('jump host', `jump host ${this.label} unavailable: ${err.message}`, false)
  }

  /**
   * One attempt, within connectTimeoutMs: its host key checked exactly as a target's is (the key
   * types known for the bastion preferred; when only fingerprints pin it, its other key types asked for).
   */
  private async connectChecked(): Promise<BastionSession> {
    const deadline = Date.now() + this.opts.connectTimeoutMs
    const { result, refusedKeys } = await askingForOtherKeyTypes(
      (excluded) => this.connectOnce(excluded, deadline),
      () => this.closed,
    )
    if (!(result instanceof TransportError)) return result
    throw refusedKeys.length > 1 ? new TransportError(result.kind, namingEveryKey(result.message, refusedKeys), result.retryable) : result
  }

  /** One handshake: TCP, host key check offering all algorithms but `excluded`, authentication, by `deadline`. Never rejects. */
  private connectOnce(excluded: string[], deadline: number): Promise<HandshakeTry<BastionSession | TransportError>> {
    const { bastion, credentials, hostKeys } = this.opts
    return new Promise((resolve) => {
      const reject = (err: TransportError) => resolve({ result: err, refusedUnknownKey: login.refusedUnknownKey, noCommonHostKey: login.noCommonHostKey })
      if (this.closed)
        return resolve({ result: new TransportError('cancelled', 'cancelled: the run ended', false), refusedUnknownKey: null, noCommonHostKey: false })
      const login = new Login({
        target: bastion,
        credentials,
        hostKeys,
        excludedHostKeyAlgorithms: excluded,
        keepaliveIntervalMs: this.opts.keepaliveIntervalMs,
        keepaliveCountMax: this.opts.keepaliveCountMax,
        open: (signal) => tcpOpen(bastion, signal, this.opts.lookup),
        auth: { short: true, earlyAuth: this.shortLogin, knowsServerSoftware: false },
      })
      const client = login.client
      const phase = () => (login.stage === 'ready' ? STALLED_DURING.auth : STALLED_DURING[login.stage])
      let settled = false
      const teardown = (): boolean => {
        if (settled) return false
        settled = true
        clearTimeout(timer)
        this.cleanups.delete(cancel)
        login.closeStream()
        login.quiet()
        client.destroy()
        return true
      }
      const fail = (err: TransportError) => {
        if (teardown()) reject(err)
      }
      // A hang-up that what the short login sent ahead may have caused (as a target's, host/session.ts):
      // a new connection logs in the ordinary way, and so does every later one to this bastion.
      const lostShort = (): boolean => {
        if (!login.cutShort() || this.closed || !teardown()) return false
        this.shortLogin = false
        resolve(this.connectOnce(excluded, deadline))
        return true
      }
      const cancel = () => fail(new TransportError('cancelled', 'cancelled: the run ended', false))
      this.cleanups.add(cancel)
      const timer = setTimeout(
        () =>
          fail(new TransportError('connect timeout', `connect timeout: no session within ${this.opts.connectTimeoutMs} ms (stalled during ${phase()})`, true)),
        Math.max(0, deadline - Date.now()),
      )
      let session: BastionSession | null = null
      login.start({
        failed: fail,
        error: (err) => {
          const c = classifyClientError(err, login)
          if (c.cause === 'host key') return fail(new TransportError('host key', c.message, false))
          if (c.cause === 'authentication') return fail(new TransportError('authentication', login.auth.failureMessage(), false))
          if ((c.cause === 'socket' || c.hungUp) && lostShort()) return
          if (c.cause === 'socket') return fail(socketError(c.err))
          login.noCommonHostKey = c.noCommonHostKey
          if (!settled) return fail(new TransportError('handshake', `handshake: ${c.detail}`, c.hungUp))
          if (session) session.lost ??= `connection lost: jump host ${this.label}: ${c.cause === 'keepalive' ? 'no keepalive reply' : c.detail}`
        },
        close: () => {
          if (!session && lostShort()) return
          if (!session) return fail(new TransportError('connection lost', `connection lost during ${phase()}`, true))
          this.onLost(session)
        },
        ready: () => {
          settled = true
          clearTimeout(timer)
          this.cleanups.delete(cancel)
          session = { client, hostKey: login.hostKey!, lost: null }
          resolve({ result: session, refusedUnknownKey: null, noCommonHostKey: false })
        },
      })
    })
  }

  private onLost(session: BastionSession): void {
    // Our own close() ends the session: nothing was lost.
    if (this.closed) return
    session.lost ??= `connection lost: jump host ${this.label} closed the connection`
    this.lastLost = session.lost
    this.opts.onEvent?.({ type: 'lost', reason: session.lost })
    // The next host to start reconnects (once, with retries); streams through the old session are gone.
    if (this.live === session) {
      this.live = null
      this.current = null
    }
  }

  private forwardError(err: Error & { reason?: number }, target: HostTarget): TransportError {
    const why = err.message.replace(/^\(SSH\) Channel open failure: /, '')
    const through = `through jump host ${this.label}`
    if (err.reason === 1) {
      return new TransportError(
        'channel',
        `channel: jump host ${this.label} refused to forward to ${target.label} (${why || 'administratively prohibited'}: is AllowTcpForwarding off for this user?)`,
        false,
      )
    }
    if (/refused/i.test(why)) return new TransportError('refused', `refused: nothing accepts connections on that port (${through}: ${why})`, true)
    if (/name|resolve|getaddrinfo|not known/i.test(why)) return new TransportError('dns', `dns: the host name could not be resolved ${through} (${why})`, false)
    if (/unreachable|no route/i.test(why)) return new TransportError('unreachable', `unreachable: no route to the host ${through} (${why})`, true)
    return new TransportError('connection lost', `connection lost: could not open a channel to ${target.label} ${through} (${why || 'no reason given'})`, true)
  }
}
