/**
 * The fleet lock, taken before any host runs anything (see README "Fleet lock"): take it, join
 * it (another job of the same run and attempt holds it), wait for it (polling every 15 s up to
 * lock-wait), take over a stale one, or refuse naming the holder. The post step (lock-post.ts)
 * releases it; the state it needs is saved before each operation that can take the lock, so a
 * step stopped at any point after that still has it released.
 */
import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'
import { connectLockHost, type LockHost, type LockOutcome, type LockRecord } from '../engine/lock/lock-host.js'
import { removalCommand } from '../engine/lock/script.js'
import { formatSeconds } from '../engine/format.js'
import type { HostKeyPolicy } from '../engine/model.js'
import type { Bastions } from './bastions.js'
import type { Settings } from './inputs.js'
import { holderRunState } from './lock-api.js'
import { inert } from './log/remote-text.js'

/** Between two looks at a held lock. SSH_FANOUT_LOCK_POLL_MS overrides it: a test hook only, not documented for users. */
const POLL_MS = Number(process.env.SSH_FANOUT_LOCK_POLL_MS) || 15_000
/** A record older than this is taken over when the API cannot say whether its run still runs (and lock-wait ran out). */
export const STALE_AFTER_MS = 6 * 3_600_000
/** The state post reads. */
export const LOCK_STATE = 'lock'

export interface LockState {
  name: string
  token: string
  /** The lock host's label (post checks its inputs name the same host). */
  host: string
  /** How to remove the lock by hand (for post's warning when it cannot). */
  removal: string
}

/** The run's identity, from the runner's environment. */
function ownRecord(env: NodeJS.ProcessEnv): LockRecord {
  const repository = env.GITHUB_REPOSITORY ?? ''
  const runId = env.GITHUB_RUN_ID ?? ''
  return {
    repository,
    workflow: env.GITHUB_WORKFLOW ?? '',
    runId,
    attempt: Number(env.GITHUB_RUN_ATTEMPT ?? '1') || 1,
    job: env.GITHUB_JOB ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    sha: env.GITHUB_SHA ?? '',
    runUrl: `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${repository}/actions/runs/${runId}`,
    time: new Date().toISOString(),
  }
}

/** `octo/app run 123 (deploy, alice, sha 0123abc) since 14:02 UTC`. */
export function describeHolder(r: LockRecord | null): string {
  if (!r) return 'an unknown holder (its record cannot be read)'
  const t = new Date(r.time)
  const hhmm = Number.isNaN(t.getTime()) ? r.time : t.toISOString().slice(11, 16)
  const day = Number.isNaN(t.getTime()) || t.toISOString().slice(0, 10) === new Date().toISOString().slice(0, 10) ? '' : `${t.toISOString().slice(0, 10)} `
  const attempt = r.attempt > 1 ? ` attempt ${r.attempt}` : ''
  const what = [r.job, r.actor, r.sha ? `sha ${r.sha.slice(0, 7)}` : ''].filter(Boolean).join(', ')
  return `${r.repository} run ${r.runId}${attempt}${what ? ` (${what})` : ''} since ${day}${hhmm} UTC`
}

export interface TakeLockOptions {
  settings: Settings
  bastions: Bastions
  hostKeys: HostKeyPolicy
  signal: AbortSignal
  note(line: string): void
}

/** Takes the lock; false when it was refused (the step has failed, naming the holder) or the step was cancelled while waiting. */
export async function takeLock(o: TakeLockOptions): Promise<boolean> {
  const lock = o.settings.lock!
  const s = o.settings
  const mine = ownRecord(process.env)
  const key = `${mine.repository}/${mine.runId}/${mine.attempt}`
  const args = { name: lock.name, key, token: randomBytes(16).toString('hex'), record: JSON.stringify(mine), oldId: '' }
  const state: LockState = { name: lock.name, token: args.token, host: lock.host.label, removal: removalCommand(lock.name, lock.host) }
  const what = `lock ${lock.name} on ${lock.host.label}`
  let host: LockHost
  try {
    host = await connectLockHost({
      target: lock.host,
      credentials: lock.host.inventory?.credentials ? { ...s.credentials, ...lock.host.inventory.credentials } : s.credentials,
      hostKeys: o.hostKeys,
      transport: o.bastions.transportFor(lock.host),
      connectTimeoutMs: s.connectTimeoutMs,
      signal: o.signal,
    })
  } catch (err) {
    return refuse(o, `${what}: the lock host could not be reached (${(err as Error).message}); no host was contacted`)
  }
  const deadline = Date.now() + lock.waitMs
  let waitingSaid = false
  try {
    for (;;) {
      const outcome = await attempt(host, 'take', args, state, o.signal)
      if (outcome.kind !== 'held') return taken(o, what, outcome)
      const holder = describeHolder(outcome.record)
      const last = Date.now() >= deadline
      const stale = await staleness(outcome.record, mine, lock.githubToken, last)
      if (stale) {
        core.warning(inert(`${what} was held by ${holder}, ${stale}: taking it over`))
        const over = await attempt(host, 'takeover', { ...args, oldId: outcome.id }, state, o.signal)
        if (over.kind !== 'held') return taken(o, what, over)
        continue // another run took it in between: look again
      }
      if (last) {
        const remove = `if that run is no longer deploying, remove the lock by hand: ${removalCommand(lock.name, lock.host)}`
        const waited = lock.waitMs > 0 ? ` after waiting ${formatSeconds(lock.waitMs)} (lock-wait)` : ' (lock-wait is 0)'
        return refuse(o, `lock ${lock.name} is held by ${holder}: refused${waited}; ${remove}`)
      }
      if (!waitingSaid) {
        waitingSaid = true
        const line = `lock ${lock.name} is held by ${holder}: waiting up to ${formatSeconds(lock.waitMs)}`
        o.note(`ssh-fanout: ${line}`)
        await summaryLine(line)
      }
      if (!(await pause(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), o.signal))) return false
    }
  } catch (err) {
    if (o.signal.aborted) return false
    return refuse(o, `${what}: ${(err as Error).message}; no host was contacted`)
  } finally {
    host.close()
  }
}

/** One operation that can take the lock: the state is saved before it (post releases what it may have taken) and cleared when it did not. */
async function attempt(
  host: LockHost,
  op: 'take' | 'takeover',
  args: Parameters<LockHost['run']>[1],
  state: LockState,
  signal: AbortSignal,
): Promise<LockOutcome> {
  core.saveState(LOCK_STATE, JSON.stringify(state))
  const outcome = await host.run(op, args, signal)
  if (outcome.kind === 'held') core.saveState(LOCK_STATE, '')
  return outcome
}

/** Why the holder is stale (a phrase), or null while it may still be running. */
async function staleness(record: LockRecord | null, mine: LockRecord, token: string, last: boolean): Promise<string | null> {
  if (!record) return null
  // A re-run starts once the earlier attempt ended: its holders are gone, without asking the API.
  if (record.repository === mine.repository && record.runId === mine.runId && record.attempt < mine.attempt) return `an earlier attempt of this run`
  const run = await holderRunState(record, token)
  if (run.state === 'completed') return 'whose run has completed'
  if (run.state !== 'unknown' || !last) return null
  const age = Date.now() - new Date(record.time).getTime()
  return age > STALE_AFTER_MS ? `taken ${formatSeconds(age)} ago (${run.why}, and the record is older than 6 h)` : null
}

function taken(o: TakeLockOptions, what: string, outcome: LockOutcome): true {
  o.note(`ssh-fanout: ${what} ${outcome.kind === 'joined' ? 'joined (another job of this run holds it too)' : 'taken'}; the post step releases it`)
  return true
}

async function refuse(o: TakeLockOptions, message: string): Promise<false> {
  if (o.signal.aborted) return false
  core.setFailed(inert(message))
  await summaryLine(message)
  return false
}

/** Waits `ms`; false when the step was cancelled first (at once: no host is touched after that). */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A line of the job summary naming the holder, when the runner provides a summary file (the run's summary follows it). */
async function summaryLine(text: string): Promise<void> {
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(`<p>${escapeHtml(text)}</p>\n`).write()
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
