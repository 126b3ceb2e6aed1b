/**
 * One SSH connection up to "logged in", shared by a target's session (host/session.ts) and the
 * bastion (jump.ts): the stream from a transport, the handshake with the host key checked against
 * the policy, authentication. Also the ONE classification of ssh2's client errors: what an error
 * means here; each caller words it for its own messages.
 */
import type ssh2 from 'ssh2'
import type { ConnectConfig } from 'ssh2'
import { Client, DEFAULT_KEX } from './ssh2.js'
import { Authenticator } from './auth.js'
import { hostKeyAlgorithms, NO_COMMON_HOST_KEY, verifyHostKey } from '../trust/host-key-check.js'
import type { Credentials, HostKeyInfo, HostKeyPolicy, HostTarget } from '../model.js'
import { TransportError, type Link } from './transport.js'

/**
 * ssh2's default key exchange methods, curve25519-sha256 first (ssh2 puts its @libssh.org alias first):
 * OpenSSH and Dropbear list it first when they do not prefer a method ssh2 lacks, so that the
 * first flight's guess (patches/ssh2, `kexGuess`) is right on them.
 */
const KEX_ORDER = ['curve25519-sha256', ...DEFAULT_KEX.filter((name) => name !== 'curve25519-sha256')]

/** How far a login got: the stream is being opened, the SSH handshake runs, authentication runs, logged in. */
export type LoginStage = 'connect' | 'handshake' | 'auth' | 'ready'

/** The stage as connect-timeout messages name it (`stalled during …`). */
export const STALLED_DURING: Record<Exclude<LoginStage, 'ready'>, string> = { connect: 'TCP connect', handshake: 'SSH handshake', auth: 'authentication' }

/** An error as ssh2's Client emits it. */
export type ClientError = Error & { level?: string; code?: unknown }

/** SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE (RFC 4253). */
const NO_MORE_AUTH_METHODS = 14

/**
 * What an ssh2 client error means. `host key`: our check refused the key (`message` says why);
 * `authentication`: every method was refused; `auth disconnect`: the server hung up during
 * authentication (e.g. OpenSSH's MaxAuthTries); `socket`: the stream failed; `keepalive`: no
 * keepalive reply; `protocol`: anything else (a handshake problem). `hungUp`: the message says
 * the host closed or reset the connection (transient); `noCommonHostKey`: no host key algorithm in common.
 */
export type ClientErrorCause = { detail: string; hungUp: boolean; noCommonHostKey: boolean } & (
  | { cause: 'host key'; message: string }
  | { cause: 'authentication' | 'auth disconnect' | 'keepalive' | 'protocol' }
  | { cause: 'socket'; err: NodeJS.ErrnoException }
)

/** The one classification of ssh2 client errors (host session and bastion). */
export function classifyClientError(err: ClientError, login: { hostKeyProblem: string | null; stage: LoginStage }): ClientErrorCause {
  const common = { detail: err.message, hungUp: /connection lost|closed|reset/i.test(err.message), noCommonHostKey: NO_COMMON_HOST_KEY.test(err.message) }
  if (login.hostKeyProblem) return { ...common, cause: 'host key', message: login.hostKeyProblem }
  if (err.level === 'client-authentication') return { ...common, cause: 'authentication' }
  if (login.stage === 'auth' && (err.code === NO_MORE_AUTH_METHODS || /authentication/i.test(err.message))) return { ...common, cause: 'auth disconnect' }
  if (err.level === 'client-socket') return { ...common, cause: 'socket', err: err as NodeJS.ErrnoException }
  if (err.level === 'client-timeout') return { ...common, cause: 'keepalive' }
  return { ...common, cause: 'protocol' }
}

export interface LoginOptions {
  target: HostTarget
  credentials: Credentials
  hostKeys: HostKeyPolicy
  /** Host key algorithms not to offer (their keys were refused already). */
  excludedHostKeyAlgorithms: string[]
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
  /** Opens the stream to the host's SSH server; aborting gives it up. */
  open(signal: AbortSignal): Promise<Link>
  /** The authenticator's options (auth.ts); `earlyAuth`: the first authentication request right behind the service request. */
  auth: { short: boolean; earlyAuth: boolean; knowsServerSoftware: boolean }
}

export interface LoginEvents {
  /** The stream could not be had, or the SSH session could not be started. */
  failed(err: TransportError): void
  ready(): void
  error(err: ClientError): void
  close(): void
  /** After each authentication request was handed to ssh2. */
  authRequested?(): void
}

/** One connection's login: owns the client, the stream and what the host key check found. */
export class Login {
  readonly client: ssh2.Client = new Client()
  readonly auth: Authenticator
  stage: LoginStage = 'connect'
  /** The stream to the host, once the transport opened it. */
  link: Link | null = null
  /** The host key presented (also when refused). */
  hostKey: HostKeyInfo | null = null
  hostKeyProblem: string | null = null
  /** The host key presented, when it was refused for being unknown and another of the host's key types may be trusted. */
  refusedUnknownKey: HostKeyInfo | null = null
  /** The handshake failed because no host key algorithm was left in common (set by the caller's error wording). */
  noCommonHostKey = false
  private readonly linkAbort = new AbortController()
  private abandoned = false

  constructor(private readonly opts: LoginOptions) {
    const { short, knowsServerSoftware } = opts.auth
    this.auth = new Authenticator(
      opts.credentials,
      opts.target.username,
      knowsServerSoftware ? { short, serverSoftware: () => (this.client as unknown as { _remoteVer?: string })._remoteVer } : {},
    )
  }

  /** The login is no longer wanted: a stream that opens now is destroyed. */
  abandon(): void {
    this.abandoned = true
  }

  /** Gives up a stream still being opened and destroys the one opened. */
  closeStream(): void {
    // Once the stream is open the transport no longer listens (and aborting would build an AbortError per host).
    if (!this.link) this.linkAbort.abort()
    this.link?.stream.destroy()
  }

  /** From now on the client's errors are ignored and its close only calls `onClose` (the login's owner is done). */
  quiet(onClose?: () => void): void {
    this.client.removeAllListeners('close')
    if (onClose) this.client.on('close', onClose)
    this.client.on('error', () => undefined)
  }

  start(events: LoginEvents): void {
    this.opts.open(this.linkAbort.signal).then(
      (link) => {
        if (this.abandoned) return void link.stream.destroy()
        this.link = link
        this.stage = 'handshake'
        this.handshake(link.stream, events)
      },
      (err: TransportError) => {
        if (!this.abandoned) events.failed(err)
      },
    )
  }

  private handshake(socket: NodeJS.ReadWriteStream, events: LoginEvents): void {
    const { target, credentials, hostKeys } = this.opts
    const client = this.client
    client.on('handshake', () => {
      this.stage = 'auth'
    })
    client.on('ready', () => {
      this.stage = 'ready'
      events.ready()
    })
    client.on('error', (err: ClientError) => events.error(err))
    client.on('close', () => events.close())
    const serverHostKey = hostKeyAlgorithms(hostKeys, target, this.opts.excludedHostKeyAlgorithms)
    const config: ConnectConfig = {
      sock: socket as never,
      username: target.username,
      readyTimeout: 0,
      keepaliveInterval: this.opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: this.opts.keepaliveCountMax ?? 3,
      hostVerifier: (blob: Buffer) => this.verifyHostKey(blob),
      authHandler: (methodsLeft, _partial, next) => {
        next(this.auth.next(methodsLeft) as never)
        events.authRequested?.()
      },
      tryKeyboard: credentials.password !== undefined,
      // The short login's first flight: KEXINIT and a guessed key exchange init behind the identification.
      ...(this.opts.auth.earlyAuth ? { earlyAuth: true, kexGuess: true } : {}),
      algorithms: { kex: KEX_ORDER as never, ...(serverHostKey ? { serverHostKey: serverHostKey as never } : {}) },
    }
    try {
      client.connect(config)
    } catch (err) {
      events.failed(new TransportError('handshake', `could not start the SSH session: ${(err as Error).message}`, false))
    }
  }

  /**
   * Whether what the short login sent ahead may be why the host hung up now: requests sent ahead
   * during authentication, or the first flight (KEXINIT and the guessed key exchange, sent before the
   * server's identification) while the server's KEXINIT has not been read (patches/ssh2, `kexGuessed`).
   */
  cutShort(): boolean {
    if (!this.opts.auth.earlyAuth) return false
    if (this.stage === 'auth') return true
    const proto = (this.client as unknown as { _protocol?: { kexGuessed?: string } })._protocol
    return this.stage === 'handshake' && proto !== undefined && proto.kexGuessed === undefined
  }

  private verifyHostKey(blob: Buffer): boolean {
    const { target, hostKeys } = this.opts
    const { key, parsed, problem } = verifyHostKey(hostKeys, target, blob)
    this.hostKey = key
    if (problem === null) return true
    this.hostKeyProblem = problem
    if (hostKeys.askForOtherKeyTypes(target, parsed)) this.refusedUnknownKey = key
    return false
  }
}
