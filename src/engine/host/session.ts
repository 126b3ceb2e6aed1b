/**
 * One host's run, top-down as its phases: login (ssh/login.ts: connect, handshake, host key,
 * authentication) → prepare (upload, script staging) → exec (the command's channel, command.ts)
 * → running → done (outcome.ts); a timeout or cancel stops the command (stop.ts). Never throws.
 *
 * Which phase allows which event (anything in `done` is ignored: finish runs once):
 * - connect-timeout: login, exec (channel opening) → `connect timeout`; cleared once logged in
 *   with a preparation, and once the command runs.
 * - command-timeout (armed when the preparation starts, else when the command runs): prepare →
 *   timeout, the command was not run; exec before the exec request → timeout, it did not start;
 *   exec after it, running → the stop (TERM, KILL, sweep).
 * - abort (cancel): before the run or during login or prepare → cancelled at once; exec before
 *   the exec request → cancelled, it did not start; exec after it, running → the stop with the
 *   cancel grace (taking over a timeout's stop).
 * - client error: login, exec → classified (host key, authentication, socket, keepalive,
 *   handshake); prepare, running → remembered: the preparation's failure or the channel decides.
 * - connection closed: login, exec → lost (a hang-up in the handshake is transient); running →
 *   the exit status if one came, else lost; during a stop → the stop's outcome.
 * - exec refused (exec): `channel`, or not started when a stop began. Channel closed (running): the outcome.
 */
import { randomBytes } from 'node:crypto'
import { askingForOtherKeyTypes, namingEveryKey } from '../trust/host-key-check.js'
import { formatSeconds } from '../format.js'
import type { PreparePhase } from '../prepare/prepare.js'
import { RETRYABLE_KINDS, type ErrorKind } from '../model.js'
import { DirectTransport } from '../ssh/transport.js'
import { classifyClientError, Login, STALLED_DURING, type ClientError, type LoginStage } from '../ssh/login.js'
import { Command } from './command.js'
import { clientErrorFailure, closedFailure, lostWhileRunning, type Failure } from './failure.js'
import { Deadlines } from './deadlines.js'
import { Stopper } from './stop.js'
import * as out from './outcome.js'
import { Preparation } from './preparation.js'
import { runCheck } from './check.js'
import type { SessionOptions } from './options.js'

export type { SessionOutcome } from './outcome.js'
export type { SessionOptions } from './options.js'
type SessionOutcome = out.SessionOutcome

type State =
  | { phase: 'login' } // the stage is the login's
  | { phase: 'prepare'; prep: Preparation }
  | { phase: 'exec' } // the command's channel is opening, or its exec request is out (command.execSent)
  | { phase: 'running' }
  | { phase: 'check' } // the command exited 0: its health check runs over the connection (check.ts)
  | { phase: 'done' }

/** The phase as messages name it: `during connect`, `during auth`, `during upload`, `during exec`. */
type PhaseName = Exclude<LoginStage, 'ready'> | PreparePhase | 'exec' | 'running' | 'check' | 'done'

/**
 * Runs the command on one host once: connect, verify, authenticate, exec, collect. Never throws.
 * When the host key is refused for being unknown while a pinned fingerprint (which names no key
 * type) may be another of the host's keys, new handshakes ask for each other key type in turn.
 */
export async function runSession(opts: SessionOptions): Promise<SessionOutcome> {
  const deadline = Date.now() + opts.connectTimeoutMs
  const { result, refusedKeys } = await askingForOtherKeyTypes(
    async (excluded) => {
      const session = new Session(opts, deadline, excluded)
      let outcome = await session.run()
      if (session.shortLoginLost) {
        // The host hung up during a short login: some servers refuse requests sent ahead; log in the ordinary way,
        // on this attempt and on any later one (shortLoginLost).
        if (!opts.signal?.aborted && Date.now() < deadline) outcome = await new Session({ ...opts, shortLogin: false }, deadline, excluded).run()
        outcome = { ...outcome, shortLoginLost: true }
      }
      return { result: outcome, refusedUnknownKey: session.login.refusedUnknownKey, noCommonHostKey: session.login.noCommonHostKey }
    },
    () => opts.signal?.aborted ?? false,
  )
  return refusedKeys.length > 1 ? { ...result, error: namingEveryKey(result.error!, refusedKeys) } : result
}

class Session {
  private state: State = { phase: 'login' }
  readonly login: Login
  private readonly command: Command
  private readonly stop: Stopper
  private readonly shortLogin: boolean
  private readonly deadlines: Deadlines
  private settle!: (outcome: SessionOutcome) => void
  /** The connection was lost during a short login (before the login succeeded): worth one ordinary login. */
  shortLoginLost = false
  /** Why the connection died while the preparation or the command ran (the client's error). */
  private lostReason: string | null = null
  /** The connection closed (by the host, the network or us). */
  private connectionClosed = false
  /** The preparation, when there is one (opts.prepare). */
  private readonly prep: Preparation | null
  constructor(
    private readonly opts: SessionOptions,
    /** connect-timeout deadline, shared by every handshake of one run. */
    private readonly deadline: number,
    excludedHostKeyAlgorithms: string[],
  ) {
    this.shortLogin = opts.shortLogin ?? true
    this.deadlines = new Deadlines(opts.commandTimeoutMs, () => this.onCommandTimeout())
    this.prep = opts.prepare ? new Preparation(opts.prepare, { command: opts.command, envPrefix: opts.envPrefix }, opts.onUploadProgress) : null
    const transport = opts.transport ?? new DirectTransport(opts.lookup)
    this.login = new Login({
      ...opts,
      excludedHostKeyAlgorithms,
      open: (signal) => transport.open(opts.target, signal),
      auth: { short: this.shortLogin, earlyAuth: this.shortLogin, knowsServerSoftware: true },
    })
    const runToken = randomBytes(16).toString('hex')
    this.command = new Command(this.login.client, this.login.auth, opts.output, runToken, {
      over: () => this.state.phase === 'done',
      failed: (kind, message) => this.fail(kind, message),
      refused: (message) =>
        this.stop.record
          ? this.finish(out.notStartedOutcome(this.login.hostKey, this.stop.record, 'the host refused to start the command'))
          : this.fail('channel', `channel: could not start the command: ${message}`),
      started: () => this.onCommandStarted(),
      closed: () => this.stop.commandClosed(),
    })
    this.stop = new Stopper({
      client: this.login.client,
      runToken,
      signal: (name) => this.command.signal(name),
      cleanup: () => void this.cleanup(),
      commandClosed: () => this.command.channelClosed,
      done: () => this.finish(this.outcome()),
      stopWaitMs: opts.stopWaitMs ?? 1_000,
    })
  }

  private phase(): PhaseName {
    const s = this.state
    if (s.phase === 'login') return this.login.stage === 'ready' ? 'auth' : this.login.stage
    return s.phase === 'prepare' ? s.prep.step : s.phase
  }

  run(): Promise<SessionOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve
      if (this.opts.signal?.aborted) return this.finish(this.cancelled('cancelled: the job was cancelled before this host connected'))
      this.opts.signal?.addEventListener('abort', this.onAbort, { once: true })
      this.deadlines.connect(this.deadline, () => this.onConnectTimeout())
      this.login.start({
        failed: (err) => this.fail(err.kind, err.message, err.retryable),
        ready: () => this.onLoggedIn(),
        error: (err) => this.onClientError(err),
        close: () => this.onClose(),
        // The early channel goes to the command's channel only when there is no preparation.
        authRequested: this.opts.prepare || this.opts.loginOnly ? undefined : () => this.command.afterAuthRequest(),
      })
    })
  }

  /** Logged in: the preparation (inside command-timeout; the connect-timeout ends here), else the command. */
  private onLoggedIn(): void {
    if (this.opts.loginOnly) return this.finish(out.loggedInOutcome(this.login.hostKey))
    const prep = this.prep
    if (!prep) return this.exec(this.opts.command)
    this.deadlines.clear()
    this.deadlines.command()
    this.state = { phase: 'prepare', prep }
    prep.run(this.login.client, {
      done: (command) => {
        if (this.state.phase !== 'done') this.exec(command)
      },
      failed: (err) => {
        if (this.state.phase === 'done') return
        // A connection lost while uploading is before the command: the whole host may be tried again.
        if (err.retryable || this.connectionClosed) return this.fail('connection lost', this.lostDuringPrepare(err.message), true)
        this.fail('upload', err.message, false)
      },
    })
  }

  private lostDuringPrepare(message: string): string {
    const why = this.login.link?.lostReason() ?? this.lostReason
    return why ? `${message} (${why})` : message
  }

  private exec(command: string): void {
    this.state = { phase: 'exec' }
    this.command.run(command)
  }

  private onCommandStarted(): void {
    // A stop begun while the exec request was out keeps its timers.
    if (!this.stop.record) this.deadlines.clear()
    this.state = { phase: 'running' }
    if (!this.stop.record) this.deadlines.command()
  }

  private onConnectTimeout(): void {
    const s = this.state
    if (s.phase === 'running' || s.phase === 'check' || s.phase === 'done') return
    const stage = s.phase === 'login' && this.login.stage !== 'ready' ? STALLED_DURING[this.login.stage] : 'opening the command channel'
    this.fail('connect timeout', `connect timeout: no session within ${formatSeconds(this.opts.connectTimeoutMs)} (stalled during ${stage})`)
  }

  private onCommandTimeout(): void {
    const s = this.state
    const after = formatSeconds(this.opts.commandTimeoutMs)
    if (s.phase === 'prepare') {
      const sent = s.prep.step === 'upload' ? ` (${s.prep.bytes} bytes sent)` : ''
      const message = `command timed out after ${after} during ${s.prep.runningWhat}${sent}; the command was not run`
      return this.finish(out.timedOutOutcome(this.login.hostKey, message))
    }
    const before = this.prep?.tookBefore ?? ''
    if (s.phase === 'exec' && !this.command.execSent) {
      // The command's channel is still opening: no exec request went out, and none will.
      const what = `command timed out after ${after} while the command's channel was opening${before}`
      return this.finish(out.notStartedOutcome(this.login.hostKey, { status: 'timeout', what, afterExit: false, signals: [] }, 'the command did not start'))
    }
    const during = s.phase === 'exec' ? ' while the command was starting' : this.opts.prepare ? ' during the command' : ''
    this.stopCommand('timeout', `command timed out after ${after}${during}${before}`, this.opts.killGraceMs ?? 5_000)
  }

  private readonly onAbort = (): void => {
    const s = this.state
    // The health check takes the same signal: it stops its attempt itself.
    if (s.phase === 'done' || s.phase === 'check') return
    if (s.phase === 'prepare') return this.finish(this.cancelled(`cancelled: the job was cancelled during ${s.prep.runningWhat}; the command was not run`))
    if (s.phase === 'exec' && !this.command.execSent) {
      return this.finish(this.cancelled("cancelled: the job was cancelled while the command's channel was opening; the command did not start"))
    }
    if (s.phase === 'login') {
      const phase = this.phase()
      return this.finish(this.cancelled(`cancelled: the job was cancelled during ${phase === 'connect' ? 'TCP connect' : phase}`))
    }
    const killSent = this.stop.killSent
    // The exec request is out (phase 'exec'): its channel takes the signals as the running command's does.
    const what = `cancelled: the job was cancelled while the command ${s.phase === 'exec' ? 'was starting' : 'ran'}`
    if (killSent) this.stop.begin('cancelled', what, this.command.exit !== null)
    else this.stopCommand('cancelled', what, this.opts.cancelGraceMs ?? 2_000)
  }

  /** Records why we stop the command (a cancellation takes over a timeout's stop) and stops it. */
  private stopCommand(status: 'timeout' | 'cancelled', what: string, graceMs: number): void {
    this.stop.begin(status, what, this.command.exit !== null)
    this.deadlines.clear()
    this.stop.start(graceMs)
  }

  private onClientError(err: ClientError): void {
    const s = this.state
    if (s.phase === 'done') return
    const c = classifyClientError(err, this.login)
    if (c.cause !== 'host key' && (s.phase === 'running' || s.phase === 'prepare' || s.phase === 'check')) {
      // Let the channel close handler (or the failing preparation) decide, but remember why the connection died.
      this.lostReason = c.cause === 'keepalive' ? 'no keepalive reply' : c.detail
      return
    }
    if (c.cause === 'protocol') this.login.noCommonHostKey = c.noCommonHostKey
    this.failWith(clientErrorFailure(c, this.phase(), this.login.auth, this.cutShort()))
  }

  private onClose(): void {
    this.connectionClosed = true
    // During the health check, its attempt sees the connection close and says so.
    if (this.state.phase === 'done' || this.state.phase === 'check') return
    if (this.login.hostKeyProblem) return this.fail('host key', this.login.hostKeyProblem)
    const jumpLost = this.login.link?.lostReason()
    if (this.state.phase !== 'running') return this.failWith(closedFailure(this.phase(), jumpLost, this.cutShort()))
    if (this.stop.record) this.stop.lostWhileStopping = true
    // The exit status arrived before the connection closed: it decides, whatever the close.
    if (this.stop.record || this.command.exit !== null) return this.finish(this.outcome())
    this.failWith(lostWhileRunning(formatSeconds(Date.now() - this.command.startedAt), jumpLost, this.lostReason))
  }

  /** Whether the short login may be why the host hung up (ssh/login.ts), while logging in. */
  private cutShort(): boolean {
    return this.state.phase === 'login' && this.login.cutShort()
  }

  private failWith(f: Failure): void {
    if (f.shortLoginLost) this.shortLoginLost = true
    this.fail(f.kind, f.message, f.retryable)
  }

  private outcome(): SessionOutcome {
    const { exit, startedAt } = this.command
    return out.commandOutcome(this.login.hostKey, { stop: this.stop.record, facts: this.stop, exit, startedAt })
  }

  private fail(kind: ErrorKind, message: string, retryable = RETRYABLE_KINDS.has(kind)): void {
    this.finish(out.errorOutcome(this.login.hostKey, kind, message, retryable && !this.command.execSent))
  }

  private cancelled(message: string): SessionOutcome {
    return out.cancelledOutcome(this.login.hostKey, message)
  }

  /** The outcome is known, but a command that exited 0 is health-checked first (check.ts). */
  private finish(outcome: SessionOutcome): void {
    const check = this.opts.check
    if (this.state.phase === 'done' || this.state.phase === 'check') return
    if (!check || outcome.status !== 'success' || this.opts.loginOnly) return this.end(outcome)
    this.state = { phase: 'check' }
    this.deadlines.clear()
    this.stop.clear()
    void this.command.outputEnded
      .then(() => runCheck(this.login.client, !this.connectionClosed, { ...check, signal: this.opts.signal }))
      .then((run) => this.end(out.checkedOutcome(outcome, run, check.timeoutMs)))
  }

  private end(outcome: SessionOutcome): void {
    if (this.state.phase === 'done') return
    const connected = this.phase() !== 'connect'
    this.state = { phase: 'done' }
    this.deadlines.clear()
    this.stop.clear()
    this.opts.signal?.removeEventListener('abort', this.onAbort)
    this.prep?.stop()
    this.login.abandon()
    this.login.quiet(() => void (this.connectionClosed = true))
    // What the preparation staged (a script-file) is removed on every outcome, while the connection lasts.
    const cleanup = this.cleanup()
    void cleanup.then(() => {
      if (connected) this.login.client.end()
      this.login.closeStream()
    })
    // Everything the host printed is part of the result: wait until both streams ended (closing
    // the connection ends them) and every chunk is on disk.
    void Promise.all([cleanup, this.command.outputEnded])
      .then(() => this.opts.output.flush())
      .then(() => this.settle({ ...outcome, commandStarted: this.command.execSent }))
  }

  /** Removes what the preparation staged, once (at the stop, or at the end), while the connection lasts; never rejects. */
  private cleanup(): Promise<void> {
    return this.prep?.cleanup(this.login.client, this.connectionClosed) ?? Promise.resolve()
  }
}
