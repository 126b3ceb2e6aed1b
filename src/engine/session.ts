import { connect as tcpConnect, type LookupFunction, type Socket } from 'node:net'
import ssh2 from 'ssh2'
import type { ClientChannel, ConnectConfig, AuthenticationType } from 'ssh2'
import { fingerprintOf, hostKeyFromBlob, type HostKey } from './known-hosts.js'
import type { OutputSpool } from './output.js'
import type { ErrorKind, HostKeyInfo, HostStatus, HostTarget } from './result.js'

/** Credentials, tried in this order: key, agent, password (also via keyboard-interactive). */
export interface Credentials {
  privateKey?: string
  passphrase?: string
  agent?: string
  password?: string
}

/** Decides whether a presented host key is trusted. */
export interface HostKeyPolicy {
  /** null when trusted, else the reason it is not (without host or fingerprint: the caller adds those). */
  reject(target: HostTarget, key: HostKey): string | null
  /** Host key algorithms to prefer for this host (from the key types already known for it). */
  preferredAlgorithms(target: HostTarget): string[]
}

export interface SessionOptions {
  target: HostTarget
  /** The full remote command (environment prefix included). */
  command: string
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
  /** Name resolution (default: the system's, as dns.lookup). */
  lookup?: LookupFunction
}

/** How one attempt ended. `retryable` tells the caller whether another attempt is allowed. */
export interface SessionOutcome {
  status: Exclude<HostStatus, 'skipped'>
  exitCode: number | null
  signal: string | null
  error: string | null
  errorKind: ErrorKind | null
  hostKey: HostKeyInfo | null
  /** A transient failure before the command started (refused, reset, timeout, …): worth another attempt. */
  retryable: boolean
}

const RETRYABLE_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['refused', 'connect timeout', 'connection lost', 'unreachable'])

type Phase = 'connect' | 'handshake' | 'auth' | 'exec' | 'running' | 'done'

/** Kills, with KILL, every other process whose environment has this connection's SSH_CONNECTION. */
const SWEEP_COMMAND = [
  'me=$$',
  'for p in /proc/[0-9]*; do',
  '  pid=${p#/proc/}',
  '  [ "$pid" = "$me" ] && continue',
  '  tr "\\0" "\\n" < "$p/environ" 2>/dev/null | grep -qxF "SSH_CONNECTION=$SSH_CONNECTION" && kill -KILL "$pid" 2>/dev/null',
  'done',
  'exit 0',
].join('\n')

const HUNG_UP_IN_HANDSHAKE = 'handshake: the host closed the connection during the SSH handshake'

const SUPPORTED_HOST_KEY_ALGORITHMS = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
])

/** Runs the command on one host once: connect, verify, authenticate, exec, collect. Never throws. */
export function runSession(opts: SessionOptions): Promise<SessionOutcome> {
  return new Session(opts).run()
}

class Session {
  private phase: Phase = 'connect'
  private readonly client = new ssh2.Client()
  private socket: Socket | null = null
  private channel: ClientChannel | null = null
  private hostKey: HostKeyInfo | null = null
  private hostKeyProblem: string | null = null
  private authTried: string[] = []
  private serverMethods: string[] | null = null
  private commandStartedAt = 0
  private readonly timers: NodeJS.Timeout[] = []
  private settle!: (outcome: SessionOutcome) => void
  private settled = false
  /** Set when we stop the command ourselves (timeout or cancellation). */
  private stopping: { status: 'timeout' | 'cancelled'; message: string } | null = null
  private exit: { code: number | null; signal: string | null } | null = null
  /** Once the exec request is sent the command may be running: never retry after that. */
  private execSent = false
  private lostReason: string | null = null

  constructor(private readonly opts: SessionOptions) {}

  run(): Promise<SessionOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve
      if (this.opts.signal?.aborted) {
        this.finish(this.cancelledOutcome('cancelled: the job was cancelled before this host connected'))
        return
      }
      this.opts.signal?.addEventListener('abort', this.onAbort, { once: true })
      this.timers.push(setTimeout(() => this.onConnectTimeout(), this.opts.connectTimeoutMs))
      this.connectTcp()
    })
  }

  private connectTcp(): void {
    const { host, port } = this.opts.target
    const socket = tcpConnect({ host, port, noDelay: true, ...(this.opts.lookup ? { lookup: this.opts.lookup } : {}) })
    this.socket = socket
    socket.once('connect', () => {
      this.phase = 'handshake'
      this.startSsh(socket)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.phase !== 'connect') return
      const [kind, message] = classifySocketError(err)
      this.fail(kind, message, kind !== 'dns' || err.code === 'EAI_AGAIN')
    })
  }

  private startSsh(socket: Socket): void {
    const { target, credentials } = this.opts
    const client = this.client
    client.on('handshake', () => {
      this.phase = 'auth'
    })
    client.on('ready', () => this.onReady())
    client.on('error', (err: Error & { level?: string }) => this.onClientError(err))
    client.on('close', () => this.onClose())
    const preferred = this.opts.hostKeys.preferredAlgorithms(target).filter((a) => SUPPORTED_HOST_KEY_ALGORITHMS.has(a))
    const config: ConnectConfig = {
      sock: socket,
      username: target.username,
      readyTimeout: 0,
      keepaliveInterval: this.opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: this.opts.keepaliveCountMax ?? 3,
      hostVerifier: (blob: Buffer) => this.verifyHostKey(blob),
      authHandler: (methodsLeft, _partial, next) => next(this.nextAuth(methodsLeft) as never),
      tryKeyboard: credentials.password !== undefined,
      ...(preferred.length > 0 ? { algorithms: { serverHostKey: { remove: preferred, prepend: preferred } as never } } : {}),
    }
    try {
      client.connect(config)
    } catch (err) {
      this.fail('handshake', `could not start the SSH session: ${(err as Error).message}`)
    }
  }

  private verifyHostKey(blob: Buffer): boolean {
    const key = hostKeyFromBlob(blob)
    this.hostKey = { type: key.type, fingerprint: fingerprintOf(blob) }
    const reason = this.opts.hostKeys.reject(this.opts.target, key)
    if (reason !== null) {
      this.hostKeyProblem = `host key: ${this.opts.target.label} presented ${key.type} ${this.hostKey.fingerprint}, ${reason}`
      return false
    }
    return true
  }

  /** Picks the next authentication method: key, agent, password, keyboard-interactive; skips what the server does not offer. */
  private nextAuth(methodsLeft: AuthenticationType[] | null): unknown {
    if (methodsLeft) this.serverMethods = methodsLeft
    const { credentials, target } = this.opts
    const offered = (m: string) => methodsLeft === null || methodsLeft.includes(m as AuthenticationType)
    const candidates: Array<[string, string, () => unknown]> = [
      ['key', 'publickey', () => ({ type: 'publickey', username: target.username, key: credentials.privateKey, passphrase: credentials.passphrase })],
      ['agent', 'publickey', () => ({ type: 'agent', username: target.username, agent: credentials.agent })],
      ['password', 'password', () => ({ type: 'password', username: target.username, password: credentials.password })],
      ['keyboard-interactive', 'keyboard-interactive', () => ({
        type: 'keyboard-interactive',
        username: target.username,
        prompt: (_n: string, _i: string, _l: string, prompts: unknown[], finish: (answers: string[]) => void) =>
          finish(prompts.map(() => credentials.password ?? '')),
      })],
    ]
    for (const [name, method, make] of candidates) {
      if (this.authTried.includes(name) || !offered(method)) continue
      const have = name === 'key' ? credentials.privateKey : name === 'agent' ? credentials.agent : credentials.password
      if (have === undefined) continue
      this.authTried.push(name)
      return make()
    }
    return false
  }

  private onReady(): void {
    this.phase = 'exec'
    this.execSent = true
    this.client.exec(this.opts.command, (err, channel) => {
      if (err) {
        this.fail('channel', `channel: could not start the command: ${err.message}`)
        return
      }
      this.onChannel(channel)
    })
  }

  private onChannel(channel: ClientChannel): void {
    this.clearTimers()
    this.channel = channel
    this.phase = 'running'
    this.commandStartedAt = Date.now()
    if (this.stopping) {
      this.stopCommand(this.opts.cancelGraceMs ?? 2_000)
    } else if (this.opts.commandTimeoutMs > 0) {
      this.timers.push(setTimeout(() => this.onCommandTimeout(), this.opts.commandTimeoutMs))
    }
    this.pipe(channel)
    this.pipe(channel.stderr)
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exit = { code: typeof code === 'number' ? code : null, signal: signal ? normalizeSignal(signal) : null }
    })
    channel.on('close', () => this.onChannelClose())
    // stdin is closed at once: the command reads end-of-file.
    channel.end()
  }

  /** Spools a stream's output to disk, pausing it until each chunk is written (backpressure). */
  private pipe(stream: NodeJS.ReadableStream): void {
    stream.on('data', (chunk: Buffer) => {
      stream.pause()
      void this.opts.output.write(chunk).then(() => stream.resume())
    })
  }

  private onChannelClose(): void {
    const elapsed = formatSeconds(Date.now() - this.commandStartedAt)
    if (this.stopping) {
      this.finish({ ...this.base(), status: this.stopping.status, ...this.exitFields(), error: this.stopping.message, errorKind: this.stopping.status === 'cancelled' ? 'cancelled' : null })
    } else if (this.exit === null) {
      this.finish({ ...this.base(), status: 'error', exitCode: null, signal: null, error: `connection lost after ${elapsed}: the channel closed without an exit status`, errorKind: 'connection lost' })
    } else if (this.exit.code === 0) {
      this.finish({ ...this.base(), status: 'success', exitCode: 0, signal: null, error: null, errorKind: null })
    } else {
      this.finish({ ...this.base(), status: 'failed', ...this.exitFields(), error: null, errorKind: null })
    }
  }

  private exitFields(): { exitCode: number | null; signal: string | null } {
    return { exitCode: this.exit?.code ?? null, signal: this.exit?.signal ?? null }
  }

  private onCommandTimeout(): void {
    this.stopping = { status: 'timeout', message: `command timed out after ${formatSeconds(this.opts.commandTimeoutMs)}; stopped on the host (TERM, then KILL)` }
    this.stopCommand(this.opts.killGraceMs ?? 5_000)
  }

  private readonly onAbort = (): void => {
    if (this.settled) return
    if (this.phase !== 'running' && this.phase !== 'exec') {
      this.finish(this.cancelledOutcome(`cancelled: the job was cancelled during ${this.phase === 'connect' ? 'TCP connect' : this.phase}`))
      return
    }
    const graceMs = this.opts.cancelGraceMs ?? 2_000
    this.stopping = { status: 'cancelled', message: 'cancelled: the job was cancelled while the command ran; stopped on the host (TERM, then KILL)' }
    if (this.phase === 'running') {
      this.stopCommand(graceMs)
    } else {
      // The exec request is out but no channel yet: give it the grace period, then give up.
      this.clearTimers()
      this.timers.push(setTimeout(() => this.finish(this.cancelledOutcome('cancelled: the job was cancelled while the command was starting')), graceMs + 2_000))
    }
  }

  /**
   * Stops the remote command: a TERM signal request, KILL after the grace period, then closes
   * the channel and the connection. ssh2's `channel.signal()` does nothing once stdin is
   * closed, so the request goes through the protocol directly; OpenSSH signals the command's
   * whole process group.
   */
  private stopCommand(graceMs: number): void {
    this.clearTimers()
    this.sendSignal('TERM')
    this.timers.push(
      setTimeout(() => {
        this.sendSignal('KILL')
        this.sweep()
        this.timers.push(setTimeout(() => this.forceClose(), 1_000))
      }, graceMs),
    )
  }

  /**
   * OpenSSH ignores signal requests in root sessions ("session signalling requires privilege
   * separation"). As a fallback, a second channel on the same connection kills every process
   * that carries this connection's SSH_CONNECTION (Linux /proc; a no-op elsewhere).
   */
  private sweep(): void {
    if (this.phase !== 'running') return
    try {
      this.client.exec(SWEEP_COMMAND, (err, channel) => {
        if (err) return
        channel.on('error', () => undefined).resume()
        channel.stderr.resume()
        channel.end()
      })
    } catch {
      // The connection is gone already.
    }
  }

  private sendSignal(name: string): void {
    const channel = this.channel as unknown as { outgoing?: { id: number; state: string } } | null
    const protocol = (this.client as unknown as { _protocol?: { signal(id: number, name: string): void } })._protocol
    if (!channel?.outgoing || channel.outgoing.state === 'closed' || !protocol) return
    try {
      protocol.signal(channel.outgoing.id, name)
    } catch {
      // The connection is already gone; forceClose covers it.
    }
  }

  private forceClose(): void {
    try {
      this.channel?.close()
    } catch {
      // ignore: closing is best effort
    }
    this.client.end()
    this.timers.push(setTimeout(() => this.client.destroy(), 1_000))
    // If the server never answers the close, finish anyway.
    this.timers.push(setTimeout(() => this.onChannelClose(), 2_000))
  }

  private onConnectTimeout(): void {
    if (this.phase === 'running' || this.settled) return
    const stage = this.phase === 'connect' ? 'TCP connect' : this.phase === 'handshake' ? 'SSH handshake' : this.phase === 'auth' ? 'authentication' : 'opening the command channel'
    this.fail('connect timeout', `connect timeout: no session within ${formatSeconds(this.opts.connectTimeoutMs)} (stalled during ${stage})`)
  }

  private onClientError(err: Error & { level?: string; code?: string }): void {
    if (this.settled) return
    if (this.hostKeyProblem) return this.fail('host key', this.hostKeyProblem)
    if (this.phase === 'running') {
      // Let the channel close handler decide, but remember why the connection died.
      this.lostReason = err.level === 'client-timeout' ? 'no keepalive reply' : err.message
      return
    }
    if (err.level === 'client-authentication') return this.fail('authentication', this.authMessage())
    if (err.level === 'client-socket') {
      const [kind, message] = classifySocketError(err as NodeJS.ErrnoException)
      return this.fail(kind === 'refused' ? kind : 'connection lost', `${message} (during ${this.phase})`)
    }
    if (err.level === 'client-timeout') return this.fail('connection lost', `connection lost during ${this.phase}: no keepalive reply`)
    // The host hung up mid-handshake (ssh2: "Connection lost before handshake"): transient, worth a retry.
    // Anything else here is a protocol problem (no common algorithm, bad packet) that a retry won't fix.
    const hungUp = /connection lost|closed|reset/i.test(err.message)
    this.fail('handshake', hungUp ? HUNG_UP_IN_HANDSHAKE : `handshake: ${err.message}`, hungUp)
  }

  private onClose(): void {
    if (this.settled) return
    if (this.hostKeyProblem) return this.fail('host key', this.hostKeyProblem)
    if (this.phase === 'running') {
      if (this.stopping) return this.onChannelClose()
      const elapsed = formatSeconds(Date.now() - this.commandStartedAt)
      const why = this.lostReason ? ` (${this.lostReason})` : ''
      return this.fail('connection lost', `connection lost after ${elapsed}${why}`)
    }
    if (this.phase === 'handshake') return this.fail('handshake', HUNG_UP_IN_HANDSHAKE, true)
    this.fail('connection lost', `connection lost during ${this.phase}`)
  }

  private authMessage(): string {
    const tried = this.authTried.length > 0 ? this.authTried.join(', ') : 'nothing that the server offers'
    const offered = this.serverMethods ? this.serverMethods.join(', ') : 'unknown'
    return `authentication failed for user "${this.opts.target.username}" (tried: ${tried}; the server offers: ${offered})`
  }

  private fail(kind: ErrorKind, message: string, retryable = RETRYABLE_KINDS.has(kind)): void {
    this.finish({ ...this.base(), status: 'error', exitCode: null, signal: null, error: message, errorKind: kind, retryable: retryable && !this.execSent })
  }

  private cancelledOutcome(message: string): SessionOutcome {
    return { ...this.base(), status: 'cancelled', exitCode: null, signal: null, error: message, errorKind: 'cancelled' }
  }

  private base(): Pick<SessionOutcome, 'hostKey' | 'retryable'> {
    return { hostKey: this.hostKey, retryable: false }
  }

  private finish(outcome: SessionOutcome): void {
    if (this.settled) return
    this.settled = true
    const connected = this.phase !== 'connect'
    this.phase = 'done'
    this.clearTimers()
    this.opts.signal?.removeEventListener('abort', this.onAbort)
    this.client.removeAllListeners('close')
    this.client.on('error', () => undefined)
    if (connected) this.client.end()
    this.socket?.destroy()
    // Output already received is part of the result: wait until it is on disk.
    void this.opts.output.flush().then(() => this.settle(outcome))
  }

  private clearTimers(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t)
  }
}

function classifySocketError(err: NodeJS.ErrnoException): [ErrorKind, string] {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return ['dns', `dns: the host name could not be resolved (${err.code})`]
    case 'EAI_AGAIN':
      return ['dns', `dns: temporary failure resolving the host name (${err.code})`]
    case 'ECONNREFUSED':
      return ['refused', 'refused: nothing accepts connections on that port (ECONNREFUSED)']
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return ['unreachable', `unreachable: no route to the host (${err.code})`]
    case 'ECONNRESET':
    case 'EPIPE':
      return ['connection lost', `connection lost: reset by the host (${err.code})`]
    default:
      return ['connection lost', `connection lost: ${err.message}`]
  }
}

/** Signal names as Node writes them: `SIGKILL` (OpenSSH sends `KILL`). */
function normalizeSignal(name: string): string {
  return name.startsWith('SIG') ? name : `SIG${name}`
}

/** A duration for people: `850 ms`, `12.3 s` (below a minute), `2 min`, `1 min 5 s` (whole seconds, never `60 s`). */
export function formatSeconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  const tenths = Math.round(ms / 100)
  if (tenths < 600) return `${tenths / 10} s`
  const seconds = Math.round(ms / 1000)
  const m = Math.floor(seconds / 60)
  const rest = seconds % 60
  return rest === 0 ? `${m} min` : `${m} min ${rest} s`
}
