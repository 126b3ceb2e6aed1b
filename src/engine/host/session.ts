import { randomBytes } from 'node:crypto'
import type { LookupFunction } from 'node:net'
import { Client } from '../ssh/ssh2.js'
import type { ClientChannel, ConnectConfig } from 'ssh2'
import { Authenticator } from '../ssh/auth.js'
import { execOn, openSession } from '../ssh/channel.js'
import { askingForOtherKeyTypes, hostKeyAlgorithms, namingEveryKey, NO_COMMON_HOST_KEY, verifyHostKey } from '../trust/host-key-check.js'
import { envPrefix, RESERVED_NAME } from '../targets/env.js'
import { formatSeconds } from '../format.js'
import type { OutputSpool } from '../output/spool.js'
import type { Prepare, Prepared, PreparePhase } from '../prepare/prepare.js'
import { RETRYABLE_KINDS, type Credentials, type ErrorKind, type HostKeyInfo, type HostKeyPolicy, type HostStatus, type HostTarget } from '../model.js'
import { classifySocketError, DirectTransport, type Link, type Transport, type TransportError } from '../ssh/transport.js'

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
  /** The host hung up during a short login: another attempt logs in the ordinary way. */
  shortLoginLost?: boolean
}

type Phase = 'connect' | 'handshake' | 'auth' | PreparePhase | 'exec' | 'running' | 'done'

/**
 * The variable that marks every process of the command: its value is the session's run token
 * (128 random bits), put in the command's environment the way `env` is. The sweep kills by it.
 */
const RUN_TOKEN_NAME = RESERVED_NAME

/**
 * Run by the sweep (below) with the run token's variable empty in its own environment, so that
 * neither it nor its children (subshells, grep, tr) match. Each pass lists the processes whose
 * environment has exactly SSH_FANOUT_RUN=<token>, and the command's own shell, which exported it
 * (a process's environment in /proc is the one it started with) but whose command line holds
 * SSH_FANOUT_RUN='<token>' (one `grep` over /proc where grep has -z, that pattern on its stdin
 * so that it does not match itself; else tr | grep per process, each started after the list of
 * processes was made), and KILLs them; it exits 0 once a pass finds none (killed processes are gone or
 * zombies by then: their environment and command line read empty), 1 after 10 passes. No
 * single quotes here; the token is hex.
 */
const sweepScript = (token: string): string =>
  [
    `t=${RUN_TOKEN_NAME}=${token}`,
    'q=$(printf "\\047")',
    `c="${RUN_TOKEN_NAME}=\${q}${token}\${q}"`,
    'if printf "%s\\0" "$t" | grep -qzxF "$t" 2>/dev/null; then',
    '  list() {',
    '    grep -lzxF "$t" /proc/[0-9]*/environ 2>/dev/null',
    '    printf "%s\\n" "$c" | grep -lF -f - /proc/[0-9]*/cmdline 2>/dev/null',
    '  }',
    'else',
    '  list() {',
    '    for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" 2>/dev/null < "$f" | grep -qxF "$t" && echo "$f"; done',
    '    for f in /proc/[0-9]*/cmdline; do tr "\\0" "\\n" 2>/dev/null < "$f" | grep -qF "$c" && echo "$f"; done',
    '  }',
    'fi',
    'n=0',
    'while [ $n -lt 10 ]; do',
    '  pids=',
    '  for f in $(list); do p=${f#/proc/}; pids="$pids ${p%/*}"; done',
    '  [ -z "$pids" ] && exit 0',
    '  kill -KILL $pids 2>/dev/null',
    '  n=$((n + 1))',
    'done',
    'exit 1',
  ].join('\n')

/** Kills every process that carries the run token (Linux /proc; finds nothing elsewhere). */
const sweepCommand = (token: string): string => `exec env ${RUN_TOKEN_NAME}= sh -c '${sweepScript(token)}'`

const HUNG_UP_IN_HANDSHAKE = 'handshake: the host closed the connection during the SSH handshake'

/** SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE (RFC 4253). */
const NO_MORE_AUTH_METHODS = 14

/**
 * Runs the command on one host once: connect, verify, authenticate, exec, collect. Never throws.
 * When the host key is refused for being unknown while a pinned fingerprint (which names no key
 * type) may be another of the host's keys, new handshakes ask for each other key type in turn.
 */
export async function runSession(opts: SessionOptions): Promise<SessionOutcome> {
  const deadline = Date.now() + opts.connectTimeoutMs
  const { result, refusedKeys } = await askingForOtherKeyTypes(
    async (excluded) => {
      const session = new Session(opts, { deadline, excludedHostKeyAlgorithms: excluded })
      let outcome = await session.run()
      if (session.shortLoginLost) {
        // The host hung up during a short login: some servers refuse requests sent ahead; log in the ordinary way,
        // on this attempt and on any later one (shortLoginLost).
        if (!opts.signal?.aborted && Date.now() < deadline) {
          outcome = await new Session({ ...opts, shortLogin: false }, { deadline, excludedHostKeyAlgorithms: excluded }).run()
        }
        outcome = { ...outcome, shortLoginLost: true }
      }
      return { result: outcome, refusedUnknownKey: session.refusedUnknownKey, noCommonHostKey: session.noCommonHostKey }
    },
    () => opts.signal?.aborted ?? false,
  )
  return refusedKeys.length > 1 ? { ...result, error: namingEveryKey(result.error!, refusedKeys) } : result
}

interface Attempt {
  /** connect-timeout deadline, shared by every handshake of one run. */
  deadline: number
  /** Host key algorithms not to offer (their keys were refused already). */
  excludedHostKeyAlgorithms: string[]
}

/** A stop we started (command timeout or cancellation). */
interface Stop {
  status: 'timeout' | 'cancelled'
  /** Why, e.g. `command timed out after 1 s`. */
  what: string
  /** The command had already exited when the stop began: its exit status decides the outcome. */
  afterExit: boolean
  /** Signals sent so far, in order. */
  signals: string[]
}

class Session {
  private phase: Phase = 'connect'
  private readonly client = new Client()
  /** The stream to the host, once the transport opened it. */
  private link: Link | null = null
  /** Aborted when the session ends: gives up a stream still being opened. */
  private readonly linkAbort = new AbortController()
  private channel: ClientChannel | null = null
  private hostKey: HostKeyInfo | null = null
  private hostKeyProblem: string | null = null
  /** The host key presented, when it was refused for being unknown and another of the host's key types may be trusted. */
  refusedUnknownKey: HostKeyInfo | null = null
  /** The handshake failed because no host key algorithm was left in common. */
  noCommonHostKey = false
  /** The connection was lost during a short login (before the login succeeded): worth one ordinary login. */
  shortLoginLost = false
  private readonly shortLogin: boolean
  /** Marks the command's processes (RUN_TOKEN_NAME), for the sweep. */
  private readonly runToken = randomBytes(16).toString('hex')
  /**
   * The command's channel requested right behind the key's signed request (short login, OpenSSH):
   * pending until the server confirms or refuses it; open once confirmed, with nothing sent on it
   * until the key's login is known; abandoned when another method logged in or the session
   * ended: then closed as soon as it opens, never used.
   */
  private earlyChannel: 'none' | 'pending' | 'open' | 'failed' | 'abandoned' = 'none'
  private earlyOpen: ClientChannel | null = null
  /** The ordinary channel for the command was requested (once at most). */
  private channelRequested = false
  /** The command to run: `opts.command`, or the one the preparation gave. */
  private command = ''
  private readonly auth: Authenticator
  private commandStartedAt = 0
  private readonly timers: NodeJS.Timeout[] = []
  private settle!: (outcome: SessionOutcome) => void
  private settled = false
  private stopping: Stop | null = null
  /** The sweep channel was requested and has not ended yet. */
  private sweeping = false
  /** The host answered after KILL (the sweep channel opened). */
  private answeredStop = false
  /** The connection closed while we were stopping the command. */
  private lostWhileStopping = false
  /** The command's channel closed and its stdout and stderr ended. */
  private channelClosed = false
  private exit: { code: number | null; signal: string | null } | null = null
  /** Once the exec request is sent the command may be running: never retry after that. */
  private execSent = false
  /** The preparation's steps, in order, for messages. */
  private readonly preparedSteps: PreparePhase[] = []
  /** Removing what the preparation staged, once started (at the stop, or when the session ends). */
  private cleaning: Promise<void> | null = null
  private lostReason: string | null = null
  /** Resolves once the command's stdout and stderr ended and every chunk was handed to the spool. */
  private outputEnded: Promise<unknown> = Promise.resolve()
  /** Aborted when the session ends: stops a preparation (upload, script staging) still running. */
  private readonly prepareAbort = new AbortController()
  /** What the preparation staged on the host, to remove once the command ended. */
  private prepared: Prepared | null = null
  /** When command-timeout, started before the preparation, runs out (0: no limit or not started). */
  private timeoutAt = 0
  /** When the preparation started and ended (0: none). */
  private preparedAt = { start: 0, end: 0 }
  /** Upload bytes sent to this host so far. */
  private uploadedBytes = 0
  /** The connection closed (by the host, the network or us). */
  private connectionClosed = false

  constructor(
    private readonly opts: SessionOptions,
    private readonly attempt: Attempt,
  ) {
    this.shortLogin = opts.shortLogin ?? true
    this.auth = new Authenticator(opts.credentials, opts.target.username, {
      short: this.shortLogin,
      serverSoftware: () => (this.client as unknown as { _remoteVer?: string })._remoteVer,
    })
  }

  run(): Promise<SessionOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve
      if (this.opts.signal?.aborted) {
        this.finish(this.cancelledOutcome('cancelled: the job was cancelled before this host connected'))
        return
      }
      this.opts.signal?.addEventListener('abort', this.onAbort, { once: true })
      this.timers.push(setTimeout(() => this.onConnectTimeout(), Math.max(0, this.attempt.deadline - Date.now())))
      this.openStream()
    })
  }

  private openStream(): void {
    const transport = this.opts.transport ?? new DirectTransport(this.opts.lookup)
    transport.open(this.opts.target, this.linkAbort.signal).then(
      (link) => {
        if (this.settled) return void link.stream.destroy()
        this.link = link
        this.phase = 'handshake'
        this.startSsh(link.stream)
      },
      (err: TransportError) => {
        if (!this.settled) this.fail(err.kind, err.message, err.retryable)
      },
    )
  }

  private startSsh(socket: NodeJS.ReadWriteStream): void {
    const { target, credentials } = this.opts
    const client = this.client
    client.on('handshake', () => {
      this.phase = 'auth'
    })
    client.on('ready', () => this.onReady())
    client.on('error', (err: Error & { level?: string }) => this.onClientError(err))
    client.on('close', () => this.onClose())
    const serverHostKey = hostKeyAlgorithms(this.opts.hostKeys, target, this.attempt.excludedHostKeyAlgorithms)
    const config: ConnectConfig = {
      sock: socket as never,
      username: target.username,
      readyTimeout: 0,
      keepaliveInterval: this.opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: this.opts.keepaliveCountMax ?? 3,
      hostVerifier: (blob: Buffer) => this.verifyHostKey(blob),
      authHandler: (methodsLeft, _partial, next) => {
        next(this.auth.next(methodsLeft) as never)
        // Only OpenSSH is known to keep a channel opened during authentication for after it: Dropbear exits
        // ("message 90 before userauth"), Go's x/crypto/ssh hangs up, and a server that takes it after
        // another method logged in would confirm a channel we no longer want.
        if (!this.opts.prepare && this.auth.signedKeyPending && this.auth.serverIsOpenSsh && this.earlyChannel === 'none') this.openEarlyChannel()
      },
      tryKeyboard: credentials.password !== undefined,
      ...(this.shortLogin ? { earlyAuth: true } : {}),
      ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as never } } : {}),
    }
    try {
      client.connect(config)
    } catch (err) {
      this.fail('handshake', `could not start the SSH session: ${(err as Error).message}`)
    }
  }

  private verifyHostKey(blob: Buffer): boolean {
    const { key, parsed, problem } = verifyHostKey(this.opts.hostKeys, this.opts.target, blob)
    this.hostKey = key
    if (problem === null) return true
    this.hostKeyProblem = problem
    if (this.opts.hostKeys.askForOtherKeyTypes(this.opts.target, parsed)) this.refusedUnknownKey = key
    return false
  }

  private onReady(): void {
    if (!this.opts.prepare) return this.execCommand(this.opts.command)
    // The connect-timeout ends at login; command-timeout covers the preparation and the command.
    this.clearTimers()
    this.startCommandTimeout()
    this.preparedAt.start = Date.now()
    const ctx = {
      signal: this.prepareAbort.signal,
      phase: (name: PreparePhase) => {
        this.phase = name
        if (!this.preparedSteps.includes(name)) this.preparedSteps.push(name)
      },
      progress: (bytes: number) => {
        this.uploadedBytes = bytes
        this.opts.onUploadProgress?.(bytes)
      },
    }
    this.phase = 'upload'
    this.opts.prepare(this.client, ctx).then(
      (prepared) => {
        this.prepared = prepared
        this.preparedAt.end = Date.now()
        if (!this.settled) this.execCommand(prepared.command)
      },
      (err: Error & { retryable?: boolean }) => {
        if (this.settled) return
        // A connection lost while uploading is before the command: the whole host may be tried again.
        if (err.retryable || this.connectionClosed) return this.fail('connection lost', this.lostDuringPrepare(err.message), true)
        this.fail('upload', err.message, false)
      },
    )
  }

  private preparing(): boolean {
    return this.phase === 'upload' || this.phase === 'script'
  }

  /** The preparation step running, for timeout and cancel messages. */
  private preparingWhat(): string {
    return this.phase === 'upload' ? 'upload' : 'writing the script-file to the host'
  }

  /** What the preparation did, once it ended: `the upload`, `writing the script-file to the host`, or both. */
  private preparedWhat(): string {
    return this.preparedSteps.map((step) => (step === 'upload' ? 'the upload' : 'writing the script-file to the host')).join(' and ') || 'the preparation'
  }

  private lostDuringPrepare(message: string): string {
    const why = this.link?.lostReason() ?? this.lostReason
    return why ? `${message} (${why})` : message
  }

  /** Starts command-timeout once (before the preparation, when there is one); later calls re-arm what is left of it. */
  private startCommandTimeout(): void {
    if (this.opts.commandTimeoutMs <= 0) return
    if (this.timeoutAt === 0) this.timeoutAt = Date.now() + this.opts.commandTimeoutMs
    this.timers.push(setTimeout(() => this.onCommandTimeout(), Math.max(0, this.timeoutAt - Date.now())))
  }

  private execCommand(command: string): void {
    this.phase = 'exec'
    this.command = command
    if (this.auth.signedKeyPending && (this.earlyChannel === 'pending' || this.earlyChannel === 'open')) {
      // The key's signed request logged in: the channel requested behind it is the command's.
      if (this.earlyChannel === 'open') this.startCommand(this.earlyOpen!)
      return // else its confirmation starts the command
    }
    // Another method logged in: the early channel (if any) was requested before that and is never used.
    this.abandonEarlyChannel()
    this.openCommandChannel()
  }

  /** The command's channel the ordinary way, after the login. */
  private openCommandChannel(): void {
    if (this.channelRequested) return
    this.channelRequested = true
    try {
      openSession(this.client, (err, channel) => {
        if (this.settled) return closeQuietly(channel)
        if (err) return this.fail('channel', `channel: could not start the command: ${err.message}`)
        this.startCommand(channel!)
      })
    } catch {
      this.fail('connection lost', `connection lost during ${this.phase}`) // not connected any more
    }
  }

  /** Sends the exec request on the command's channel, now open: from here on the command may be running. */
  private startCommand(channel: ClientChannel): void {
    this.channel = channel
    this.earlyOpen = null
    this.execSent = true
    try {
      execOn(channel, this.markedCommand(), (err) => {
        if (this.settled) return closeQuietly(channel)
        if (err && this.stopping) return this.finish(this.notStartedOutcome(this.stopping, 'the host refused to start the command'))
        if (err) return this.fail('channel', `channel: could not start the command: ${err.message}`)
        this.onChannel(channel)
      })
    } catch (err) {
      this.fail('channel', `channel: could not start the command: ${(err as Error).message}`)
    }
  }

  /** The command with the run token in its environment, ahead of everything else. */
  private markedCommand(): string {
    return envPrefix([{ name: RUN_TOKEN_NAME, value: this.runToken }]) + this.command
  }

  /**
   * Short login: the command's channel requested right behind the key's signed request, so that
   * the exec request leaves as soon as the server confirms it (one round trip less). Servers that
   * refuse a channel before the login ended answer with a failure: the ordinary request follows.
   * Nothing is sent on the channel before the key's login is known (Session.execCommand).
   */
  private openEarlyChannel(): void {
    this.earlyChannel = 'pending'
    try {
      openSession(this.client, (err, channel) => this.onEarlyChannel(err, channel))
    } catch {
      this.earlyChannel = 'failed' // not connected: the close handler reports it
    }
  }

  private onEarlyChannel(err: Error | undefined, channel: ClientChannel | undefined): void {
    if (this.earlyChannel === 'abandoned' || this.settled) return closeQuietly(channel)
    if (err) {
      // The channel was refused (opened too early for this server): ask again the ordinary way once logged in.
      this.earlyChannel = 'failed'
      if (this.phase === 'exec') this.openCommandChannel()
      return
    }
    this.earlyChannel = 'open'
    this.earlyOpen = channel!
    if (this.phase === 'exec') this.startCommand(channel!)
  }

  /** The early channel is not the command's: closed if it is open, and closed as soon as it opens if it is pending. */
  private abandonEarlyChannel(): void {
    if (this.earlyChannel !== 'pending' && this.earlyChannel !== 'open') return
    closeQuietly(this.earlyOpen ?? undefined)
    this.earlyOpen = null
    this.earlyChannel = 'abandoned'
  }

  private onChannel(channel: ClientChannel): void {
    // A stop begun while the exec request was out keeps its timers.
    if (!this.stopping) this.clearTimers()
    this.channel = channel
    this.phase = 'running'
    this.commandStartedAt = Date.now()
    this.outputEnded = Promise.all([this.pipe(channel), this.pipe(channel.stderr)])
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exit = { code: typeof code === 'number' ? code : null, signal: signal ? normalizeSignal(signal) : null }
    })
    // ssh2 emits 'close' once stdout ended: stderr may still hold chunks, so wait for both.
    channel.on('close', () => void this.outputEnded.then(() => this.onChannelClose()))
    // stdin is closed at once: the command reads end-of-file.
    channel.end()
    if (!this.stopping) this.startCommandTimeout()
  }

  /**
   * Spools a stream's output to disk, pausing it until each chunk is written (backpressure).
   * Resolves when the stream ended and all its chunks were handed to the spool.
   */
  private pipe(stream: NodeJS.ReadableStream): Promise<void> {
    stream.on('data', (chunk: Buffer) => {
      stream.pause()
      void this.opts.output.write(chunk).then(() => stream.resume())
    })
    return new Promise((resolve) => {
      stream.once('end', resolve)
      stream.once('error', () => resolve())
    })
  }

  private onChannelClose(): void {
    this.channelClosed = true
    // A running sweep may still be killing the command's other processes: its end finishes the host.
    if (!this.sweeping) this.finish(this.outcome())
  }

  /** The outcome once the command's channel closed (or we gave up waiting for it). */
  private outcome(): SessionOutcome {
    const stop = this.stopping
    if (stop && !stop.afterExit) {
      return {
        ...this.base(),
        status: stop.status,
        ...this.exitFields(),
        error: `${stop.what}; ${this.stopReport(stop)}`,
        errorKind: stop.status === 'cancelled' ? 'cancelled' : null,
      }
    }
    if (this.exit === null) {
      const elapsed = formatSeconds(Date.now() - this.commandStartedAt)
      return {
        ...this.base(),
        status: 'error',
        exitCode: null,
        signal: null,
        error: `connection lost after ${elapsed}: the channel closed without an exit status`,
        errorKind: 'connection lost',
      }
    }
    if (this.exit.code === 0) return { ...this.base(), status: 'success', exitCode: 0, signal: null, error: null, errorKind: null }
    return { ...this.base(), status: 'failed', ...this.exitFields(), error: null, errorKind: null }
  }

  /** Ends a stop begun before the command could have started (no exec request sent, or it was refused). */
  private notStartedOutcome(stop: Stop, why: string): SessionOutcome {
    return {
      ...this.base(),
      status: stop.status,
      exitCode: null,
      signal: null,
      error: `${stop.what}; ${why}`,
      errorKind: stop.status === 'cancelled' ? 'cancelled' : null,
    }
  }

  /** What is known about the command after we tried to stop it. */
  private stopReport(stop: Stop): string {
    const sent = stop.signals.join(', then ') || 'no signal'
    if (this.exit !== null) return `stopped on the host (${sent})`
    if (this.lostWhileStopping) return `${sent} sent; the connection closed before the command ended, so whether it stopped is unknown`
    if (this.answeredStop) return `${sent} sent, but the command had not ended when the session was closed, so it may still be running on the host`
    return `${sent} sent; the host did not answer, so whether the command stopped is unknown`
  }

  private exitFields(): { exitCode: number | null; signal: string | null } {
    return { exitCode: this.exit?.code ?? null, signal: this.exit?.signal ?? null }
  }

  private onCommandTimeout(): void {
    const after = formatSeconds(this.opts.commandTimeoutMs)
    if (this.preparing()) {
      const sent = this.phase === 'upload' ? ` (${this.uploadedBytes} bytes sent)` : ''
      this.finish({
        ...this.base(),
        status: 'timeout',
        exitCode: null,
        signal: null,
        error: `command timed out after ${after} during ${this.preparingWhat()}${sent}; the command was not run`,
        errorKind: null,
      })
      return
    }
    const before = this.opts.prepare ? ` (${formatSeconds(this.preparedAt.end - this.preparedAt.start)} went to ${this.preparedWhat()} before it)` : ''
    if (this.phase === 'exec' && !this.execSent) {
      // The command's channel is still opening: no exec request went out, and none will.
      const what = `command timed out after ${after} while the command's channel was opening${before}`
      return this.finish(this.notStartedOutcome({ status: 'timeout', what, afterExit: false, signals: [] }, 'the command did not start'))
    }
    const during = this.phase === 'exec' ? ' while the command was starting' : this.opts.prepare ? ' during the command' : ''
    this.beginStop('timeout', `command timed out after ${after}${during}${before}`)
    this.stopCommand(this.opts.killGraceMs ?? 5_000)
  }

  private readonly onAbort = (): void => {
    if (this.settled) return
    if (this.preparing()) {
      this.finish(this.cancelledOutcome(`cancelled: the job was cancelled during ${this.preparingWhat()}; the command was not run`))
      return
    }
    if (this.phase === 'exec' && !this.execSent) {
      this.finish(this.cancelledOutcome("cancelled: the job was cancelled while the command's channel was opening; the command did not start"))
      return
    }
    if (this.phase !== 'running' && this.phase !== 'exec') {
      this.finish(this.cancelledOutcome(`cancelled: the job was cancelled during ${this.phase === 'connect' ? 'TCP connect' : this.phase}`))
      return
    }
    const killSent = this.stopping?.signals.includes('KILL') ?? false
    // The exec request is out (phase 'exec'): its channel takes the signals as the running command's does.
    this.beginStop('cancelled', `cancelled: the job was cancelled while the command ${this.phase === 'exec' ? 'was starting' : 'ran'}`)
    if (!killSent) this.stopCommand(this.opts.cancelGraceMs ?? 2_000)
  }

  /** Records why we stop the command; a cancellation during a timeout's stop takes over its status. */
  private beginStop(status: Stop['status'], what: string): void {
    this.stopping = { status, what, afterExit: this.stopping?.afterExit ?? this.exit !== null, signals: this.stopping?.signals ?? [] }
  }

  private stopWaitMs(): number {
    return this.opts.stopWaitMs ?? 1_000
  }

  /**
   * Stops the remote command: a TERM signal request, then after the grace period KILL and the
   * sweep; the host is finished when the channel and the sweep ended, or after stopWaitMs.
   * ssh2's `channel.signal()` does nothing once stdin is closed, so the requests go through the
   * protocol directly; OpenSSH signals the command's whole process group.
   */
  private stopCommand(graceMs: number): void {
    this.clearTimers()
    this.sendSignal('TERM')
    // What the preparation staged (a script-file) is removed now, on its own channel, not after the stop.
    void this.cleanup()
    this.timers.push(
      setTimeout(() => {
        this.sendSignal('KILL')
        this.sweep()
        this.timers.push(setTimeout(() => this.finish(this.outcome()), this.stopWaitMs()))
      }, graceMs),
    )
  }

  /**
   * OpenSSH ignores signal requests in root sessions ("session signalling requires privilege
   * separation"), and a command's children may have left its process group. A second channel
   * on the same connection KILLs every process that carries the command's run token (Linux
   * /proc; a no-op elsewhere) and ends once they are gone. The token is this session's alone:
   * SSH_CONNECTION recurs (source ports come round; behind a bastion every target sees its address).
   */
  private sweep(): void {
    const ended = (): void => {
      if (!this.sweeping) return
      this.sweeping = false
      if (this.channelClosed) this.finish(this.outcome())
    }
    this.sweeping = true
    try {
      this.client.exec(sweepCommand(this.runToken), (err, channel) => {
        if (err) return ended()
        this.answeredStop = true
        channel.on('error', () => undefined).resume()
        channel.stderr.resume()
        channel.on('close', ended)
        channel.end()
      })
    } catch {
      ended() // the connection is gone already
    }
  }

  private sendSignal(name: string): void {
    const channel = this.channel as unknown as { outgoing?: { id: number; state: string } } | null
    const protocol = (this.client as unknown as { _protocol?: { signal(id: number, name: string): void } })._protocol
    if (!channel?.outgoing || channel.outgoing.state === 'closed' || !protocol) return
    try {
      protocol.signal(channel.outgoing.id, name)
      if (this.stopping && !this.stopping.signals.includes(name)) this.stopping.signals.push(name)
    } catch {
      // The connection is already gone: the outcome says so.
    }
  }

  private onConnectTimeout(): void {
    if (this.phase === 'running' || this.settled) return
    const stage =
      this.phase === 'connect'
        ? 'TCP connect'
        : this.phase === 'handshake'
          ? 'SSH handshake'
          : this.phase === 'auth'
            ? 'authentication'
            : 'opening the command channel'
    this.fail('connect timeout', `connect timeout: no session within ${formatSeconds(this.opts.connectTimeoutMs)} (stalled during ${stage})`)
  }

  private onClientError(err: Error & { level?: string; code?: unknown }): void {
    if (this.settled) return
    if (this.hostKeyProblem) return this.fail('host key', this.hostKeyProblem)
    if (this.phase === 'running' || this.preparing()) {
      // Let the channel close handler (or the failing preparation) decide, but remember why the connection died.
      this.lostReason = err.level === 'client-timeout' ? 'no keepalive reply' : err.message
      return
    }
    if (err.level === 'client-authentication') return this.fail('authentication', this.auth.failureMessage())
    // The server disconnected during authentication, e.g. OpenSSH's "Too many authentication failures" (MaxAuthTries).
    if (this.phase === 'auth' && (err.code === NO_MORE_AUTH_METHODS || /authentication/i.test(err.message))) {
      return this.fail('authentication', `${this.auth.failureMessage()}; the server disconnected: ${err.message}`)
    }
    // Any hang-up before the login succeeded, whatever was tried by then: the next login is an ordinary one.
    if (this.phase === 'auth' && this.shortLogin) this.shortLoginLost = true
    if (err.level === 'client-socket') {
      const [kind, message] = classifySocketError(err as NodeJS.ErrnoException)
      return this.fail(kind === 'refused' ? kind : 'connection lost', `${message} (during ${this.phase})`)
    }
    if (err.level === 'client-timeout') return this.fail('connection lost', `connection lost during ${this.phase}: no keepalive reply`)
    this.noCommonHostKey = NO_COMMON_HOST_KEY.test(err.message)
    // The host hung up mid-handshake (ssh2: "Connection lost before handshake"): transient, worth a retry.
    // Anything else here is a protocol problem (no common algorithm, bad packet) that a retry won't fix.
    const hungUp = /connection lost|closed|reset/i.test(err.message)
    this.fail('handshake', hungUp ? HUNG_UP_IN_HANDSHAKE : `handshake: ${err.message}`, hungUp)
  }

  private onClose(): void {
    this.connectionClosed = true
    if (this.settled) return
    if (this.hostKeyProblem) return this.fail('host key', this.hostKeyProblem)
    if (this.phase === 'running') {
      if (this.stopping) {
        this.lostWhileStopping = true
        return this.finish(this.outcome())
      }
      // The exit status arrived before the connection closed: it decides, whatever the close.
      if (this.exit !== null) return this.finish(this.outcome())
      const elapsed = formatSeconds(Date.now() - this.commandStartedAt)
      const jumpLost = this.link?.lostReason()
      if (jumpLost) return this.fail('connection lost', `${jumpLost} (the command had run ${elapsed})`)
      const why = this.lostReason ? ` (${this.lostReason})` : ''
      return this.fail('connection lost', `connection lost after ${elapsed}${why}`)
    }
    const jumpLost = this.link?.lostReason()
    if (jumpLost) return this.fail('connection lost', `${jumpLost} (during ${this.phase})`, true)
    if (this.phase === 'auth' && this.shortLogin) this.shortLoginLost = true
    if (this.phase === 'handshake') return this.fail('handshake', HUNG_UP_IN_HANDSHAKE, true)
    this.fail('connection lost', `connection lost during ${this.phase}`)
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
    this.prepareAbort.abort()
    this.client.removeAllListeners('close')
    this.client.on('close', () => void (this.connectionClosed = true))
    this.client.on('error', () => undefined)
    // What the preparation staged (a script-file) is removed on every outcome, while the connection lasts.
    const cleanup = this.cleanup()
    void cleanup.then(() => {
      if (connected) this.client.end()
      this.linkAbort.abort()
      this.link?.stream.destroy()
    })
    // Everything the host printed is part of the result: wait until both streams ended (closing
    // the connection ends them) and every chunk is on disk.
    void Promise.all([cleanup, this.outputEnded])
      .then(() => this.opts.output.flush())
      .then(() => this.settle(outcome))
  }

  /** Removes what the preparation staged, once (at the stop, or at the end), while the connection lasts; never rejects. */
  private cleanup(): Promise<void> {
    this.cleaning ??= this.prepared?.cleanup && !this.connectionClosed ? this.prepared.cleanup(this.client) : null
    return this.cleaning ?? Promise.resolve()
  }

  private clearTimers(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t)
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

/** Signal names as Node writes them: `SIGKILL` (OpenSSH sends `KILL`). */
function normalizeSignal(name: string): string {
  return name.startsWith('SIG') ? name : `SIG${name}`
}
