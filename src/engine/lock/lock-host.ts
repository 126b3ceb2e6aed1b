/**
 * ONE SSH login to the lock host (the same credentials, host-key policy and transport as a
 * target's) and the lock's operations over it (script.ts). No @actions/* here: the action
 * decides what to do with a lock another run holds (src/action/lock.ts).
 */
import type ssh2 from 'ssh2'
import { classifyClientError, Login, STALLED_DURING } from '../ssh/login.js'
import { remoteExec } from '../ssh/remote-exec.js'
import type { Transport } from '../ssh/transport.js'
import type { Credentials, HostKeyPolicy, HostTarget } from '../model.js'
import { lockCommand, type LockArgs, type LockOp } from './script.js'

/** Who holds a lock: written by the job that took it, shown whenever it is waited for or refused. */
export interface LockRecord {
  repository: string
  workflow: string
  runId: string
  attempt: number
  job: string
  actor: string
  sha: string
  runUrl: string
  /** When it was taken (ISO 8601). */
  time: string
}

/** What an operation found: `held` carries the lock's id and its record (null when unreadable). */
export type LockOutcome = { kind: 'taken' | 'joined' | 'released' | 'left' | 'notheld' } | { kind: 'held'; id: string; record: LockRecord | null }

export class LockHostError extends Error {}

export interface LockHostOptions {
  target: HostTarget
  credentials: Credentials
  hostKeys: HostKeyPolicy
  transport: Transport
  connectTimeoutMs: number
  /** Aborting gives up the login or the operation at once. */
  signal?: AbortSignal
}

/** Logs in to the lock host; rejects with a LockHostError saying why not. */
export async function connectLockHost(opts: LockHostOptions): Promise<LockHost> {
  await opts.transport.ready().catch((err: Error) => {
    throw new LockHostError(err.message)
  })
  const login = new Login({
    target: opts.target,
    credentials: opts.credentials,
    hostKeys: opts.hostKeys,
    excludedHostKeyAlgorithms: [],
    open: (signal) => opts.transport.open(opts.target, signal),
    auth: { short: false, earlyAuth: false, knowsServerSoftware: false },
  })
  return new Promise((resolve, reject) => {
    let settled = false
    const fail = (message: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      login.closeStream()
      login.quiet()
      login.client.destroy()
      reject(new LockHostError(message))
    }
    const onAbort = () => fail('cancelled')
    if (opts.signal?.aborted) return onAbort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const stage = () => (login.stage === 'ready' ? STALLED_DURING.auth : STALLED_DURING[login.stage])
    const timer = setTimeout(() => fail(`connect timeout: not logged in within ${opts.connectTimeoutMs} ms (stalled during ${stage()})`), opts.connectTimeoutMs)
    login.start({
      failed: (err) => fail(err.message),
      error: (err) => {
        const c = classifyClientError(err, login)
        if (c.cause === 'host key') return fail(`host key: ${c.message}`)
        if (c.cause === 'authentication') return fail(login.auth.failureMessage())
        fail(`${c.cause}: ${c.detail}`)
      },
      close: () => fail(`connection lost during ${stage()}`),
      ready: () => {
        settled = true
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        login.quiet()
        resolve(new LockHost(login.client))
      },
    })
  })
}

/** An authenticated connection to the lock host. */
export class LockHost {
  constructor(private readonly client: ssh2.Client) {}

  /** Runs one operation; rejects with a LockHostError when it could not run to its end. */
  async run(op: LockOp, args: LockArgs, signal?: AbortSignal): Promise<LockOutcome> {
    const r = await remoteExec(this.client, { command: (marker) => lockCommand(op, args, marker), signal, timeoutMs: 120_000 })
    if (r.end === 'aborted') throw new LockHostError('cancelled')
    const line = r.lines.at(-1)
    if (r.end !== 'exit' || line === undefined) {
      throw new LockHostError(
        `the lock script did not finish (${r.end}${r.error ? `: ${r.error.message}` : ''}${r.stderr.trim() ? `; stderr: ${r.stderr.trim()}` : ''})`,
      )
    }
    const [word, ...rest] = line.split(' ')
    switch (word) {
      case 'taken':
      case 'joined':
      case 'released':
      case 'left':
      case 'notheld':
        return { kind: word }
      case 'held':
        return { kind: 'held', id: rest.join(' '), record: parseRecord(r.stdout) }
      default:
        throw new LockHostError(word === 'error' ? rest.join(' ') : `unexpected answer from the lock script: ${line}`)
    }
  }

  close(): void {
    this.client.end()
  }
}

/** The record as the lock holds it, or null when it is not one (written by hand, cut short). */
export function parseRecord(text: string): LockRecord | null {
  try {
    const r = JSON.parse(text) as Partial<LockRecord>
    if (typeof r !== 'object' || r === null || typeof r.runId !== 'string' || typeof r.time !== 'string') return null
    return {
      repository: String(r.repository ?? ''),
      workflow: String(r.workflow ?? ''),
      runId: r.runId,
      attempt: Number(r.attempt ?? 1),
      job: String(r.job ?? ''),
      actor: String(r.actor ?? ''),
      sha: String(r.sha ?? ''),
      runUrl: String(r.runUrl ?? ''),
      time: r.time,
    }
  } catch {
    return null
  }
}
