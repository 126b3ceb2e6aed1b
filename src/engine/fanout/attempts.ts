/**
 * One host's run to its result: the session, tried again (with backoff) after a transient
 * failure before the command started; waiting for a (re)connecting jump host first.
 */
import type { OutputSpool } from '../output/spool.js'
import type { HostResult, HostTarget } from '../model.js'
import { runSession, type SessionOptions, type SessionOutcome } from '../host/session.js'
import { sleep } from '../timers.js'
import { TransportError, type Transport } from '../ssh/transport.js'
import type { Reporter } from './types.js'
import { envPrefix, type EnvVar } from '../targets/env.js'

/** Most retries the `retries` input allows: with the capped backoff, at most about 3.5 minutes of waiting for one host. */
export const MAX_RETRIES = 10

/** Longest wait before one retry. */
export const MAX_BACKOFF_MS = 30_000

/**
 * About base, 2×base, 4×base, … up to 20 s, with ±50% jitter so a fleet does not retry in lockstep;
 * never more than MAX_BACKOFF_MS (30 s).
 */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const mean = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS / 1.5)
  return Math.round(mean * (0.5 + random()))
}

/** What every run on a host (preflight, the command, the soak check, the rollback) shares. */
export interface HostRunContext {
  /** `command` and `check.command` without the env prefix: runHost adds the host's. */
  session: Omit<SessionOptions, 'target' | 'output' | 'signal'>
  retries: number
  retryBaseDelayMs?: number
  signal?: AbortSignal
  reporter: Reporter
  transportFor(target: HostTarget): Transport
  /** The run's env (FanoutOptions.env). */
  env: readonly EnvVar[]
}

/** The host's own session: its env prefix on every command, its own credentials. */
function hostSession(target: HostTarget, ctx: HostRunContext): Omit<SessionOptions, 'target' | 'output' | 'signal'> {
  const own = target.inventory
  const prefix = envPrefix(withHostEnv(ctx.env, own?.env))
  const { session } = ctx
  return {
    ...session,
    command: prefix + session.command,
    envPrefix: prefix,
    check: session.check ? { ...session.check, command: prefix + session.check.command } : undefined,
    // The host's own key or password over the run's (the agent stays the run's).
    credentials: own?.credentials ? { ...session.credentials, ...own.credentials } : session.credentials,
  }
}

/** The run's variables, then the host's: a name in both takes the host's value (in the run's place). */
export function withHostEnv(run: readonly EnvVar[], host: readonly EnvVar[] | undefined): EnvVar[] {
  if (!host || host.length === 0) return [...run]
  const own = new Map(host.map((v) => [v.name, v.value]))
  return [...run.map((v) => (own.has(v.name) ? { name: v.name, value: own.get(v.name)! } : v)), ...host.filter((v) => !run.some((r) => r.name === v.name))]
}

/** A host's result (without its batch), and the health check's last output when a check ran. */
export interface HostRun {
  result: Omit<HostResult, 'batch'>
  checkOutput: OutputSpool | null
}

/** One host, with retries for transient failures before the command started. Never throws. */
export async function runHost(target: HostTarget, output: OutputSpool, ctx: HostRunContext, onUploadProgress?: (bytes: number) => void): Promise<HostRun> {
  const startedAt = Date.now()
  let attempts = 0
  // Once the host hung up during a short login, every later attempt logs in the ordinary way.
  let shortLogin = ctx.session.shortLogin
  const session = hostSession(target, ctx)
  const transport = ctx.transportFor(target)
  const done = (outcome: SessionOutcome): HostRun => toRun(target, outcome, attempts, Date.now() - startedAt, output)
  for (;;) {
    // Waiting for a (re)connecting bastion is not part of the host's connect-timeout.
    const unavailable = await untilReady(transport, ctx.signal)
    if (unavailable === 'cancelled') {
      const result = {
        ...skippedResult(target, 'not started: the job was cancelled while waiting for the jump host'),
        durationMs: Date.now() - startedAt,
        attempts,
      }
      return { result, checkOutput: null }
    }
    if (unavailable) {
      return done({ status: 'error', exitCode: null, signal: null, error: unavailable.message, errorKind: unavailable.kind, hostKey: null, retryable: false })
    }
    attempts += 1
    const outcome = await runSession({ ...session, shortLogin, target, output, signal: ctx.signal, transport, onUploadProgress })
    if (outcome.shortLoginLost) shortLogin = false
    if (!outcome.retryable || attempts > ctx.retries || ctx.signal?.aborted) return done(outcome)
    const delayMs = backoffDelay(attempts, ctx.retryBaseDelayMs ?? 1_000)
    ctx.reporter.retrying(target, outcome, attempts, delayMs)
    if (!(await sleep(delayMs, ctx.signal))) {
      return done({
        ...outcome,
        status: 'cancelled',
        error: `cancelled: the job was cancelled while waiting to retry (last attempt: ${outcome.error})`,
        errorKind: 'cancelled',
      })
    }
  }
}

/** null once the transport can open streams; its error when it cannot; 'cancelled' when the job is cancelled first. */
function untilReady(transport: Transport, signal?: AbortSignal): Promise<TransportError | 'cancelled' | null> {
  if (signal?.aborted) return Promise.resolve('cancelled')
  return new Promise((resolve) => {
    const onAbort = () => resolve('cancelled')
    signal?.addEventListener('abort', onAbort, { once: true })
    transport
      .ready()
      .then(
        () => resolve(null),
        (err: unknown) => resolve(err instanceof TransportError ? err : new TransportError('jump host', String(err), false)),
      )
      .finally(() => signal?.removeEventListener('abort', onAbort))
  })
}

/** The result of a host's last attempt; an `unhealthy` host's last lines are its health check's. */
function toRun(target: HostTarget, outcome: SessionOutcome, attempts: number, durationMs: number, output: OutputSpool): HostRun {
  const check = outcome.check ?? null
  const tail = outcome.status === 'unhealthy' && check?.output ? check.output.tailLines() : output.tailLines()
  const result = {
    target,
    status: outcome.status,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    error: outcome.error,
    errorKind: outcome.errorKind,
    durationMs,
    tail,
    attempts,
    hostKey: outcome.hostKey,
    preflight: null,
    changed: outcome.commandStarted ?? false,
    check: check ? { ...check.report, soak: null } : null,
    rollback: null,
  }
  return { result, checkOutput: check?.output ?? null }
}

export function skippedResult(target: HostTarget, reason: string): Omit<HostResult, 'batch'> {
  return {
    target,
    status: 'skipped',
    exitCode: null,
    signal: null,
    error: reason,
    errorKind: null,
    durationMs: 0,
    tail: [],
    attempts: 0,
    hostKey: null,
    preflight: null,
    changed: false,
    check: null,
    rollback: null,
  }
}
