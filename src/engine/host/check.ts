/**
 * The health check (check-command) on a host whose command exited 0, over the command's own
 * connection: attempts at 0, interval, 2·interval, … while before check-timeout (an attempt
 * that runs long delays the next), until one exits 0. The verdict follows the last attempt, which
 * may end after check-timeout; an attempt still running check-timeout after its start is stopped
 * (and fails). Each attempt's output goes to a fresh
 * spool; the last one's is kept for the log.
 */
import type { Client, ClientChannel } from 'ssh2'
import type { CheckSettings } from '../model.js'
import type { OutputSpool } from '../output/spool.js'
import { formatSeconds } from '../format.js'
import { sleep } from '../timers.js'
import { normalizeSignal, type CheckRun, type CheckVerdict } from './outcome.js'

export type { CheckRun } from './outcome.js'

export interface CheckOptions extends CheckSettings {
  /** A new spool for one attempt's output. */
  spool(): OutputSpool
  signal?: AbortSignal
}

/** How many attempts check-timeout leaves room for: those starting at k·interval < timeout. */
export function plannedAttempts(intervalMs: number, timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / intervalMs))
}

interface Attempt {
  end: 'exit' | 'closed' | 'overran' | 'lost' | 'no channel' | 'cancelled'
  code: number | null
  signal: string | null
  reason?: string
}

/** Runs the check on a logged-in `client` (`connected` false: the connection is already gone). Never rejects. */
export async function runCheck(client: Client, connected: boolean, opts: CheckOptions): Promise<CheckRun> {
  const planned = plannedAttempts(opts.intervalMs, opts.timeoutMs)
  const log: string[] = []
  const start = Date.now()
  const deadline = start + opts.timeoutMs
  let output: OutputSpool | null = null
  let last: Attempt = { end: 'lost', code: null, signal: null, reason: 'the connection closed before the check could run' }
  let verdict: CheckVerdict = connected ? 'failed' : 'lost'
  for (let k = 0; connected && k < planned; k += 1) {
    const wait = start + k * opts.intervalMs - Date.now()
    if (wait > 0 && !(await sleep(wait, opts.signal))) {
      verdict = 'cancelled'
      last = { end: 'cancelled', code: last.code, signal: last.signal }
      break
    }
    if (k > 0 && Date.now() >= deadline) break
    await output?.dispose()
    output = opts.spool()
    // An attempt started before check-timeout may finish (the verdict follows it), but none runs longer than check-timeout.
    last = await attempt(client, opts.command, output, opts.timeoutMs, opts.signal)
    log.push(`check ${k + 1}/${planned}: ${describe(last, opts.timeoutMs)}`)
    if (last.end === 'exit' && last.code === 0) {
      verdict = 'passed'
      break
    }
    if (last.end === 'lost' || last.end === 'no channel' || last.end === 'cancelled') {
      verdict = last.end === 'cancelled' ? 'cancelled' : 'lost'
      break
    }
  }
  return {
    verdict,
    report: { attempts: log.length, planned, exitCode: last.code, durationMs: Date.now() - start, log },
    signal: last.signal,
    output,
    last: describe(last, opts.timeoutMs),
  }
}

function describe(a: Attempt, timeoutMs: number): string {
  switch (a.end) {
    case 'exit':
      return a.signal ? `killed by ${a.signal}` : `exit ${a.code}`
    case 'closed':
      return 'ended without an exit status'
    case 'overran':
      return `still running after check-timeout (${formatSeconds(timeoutMs)}); stopped`
    case 'lost':
      return `connection lost${a.reason ? ` (${a.reason})` : ''}`
    case 'no channel':
      return `could not start the check: ${a.reason}`
    case 'cancelled':
      return 'cancelled'
  }
}

/** One run of the check on the connection, its stdout and stderr to `spool`, stopped after `limitMs`. */
function attempt(client: Client, command: string, spool: OutputSpool, limitMs: number, signal?: AbortSignal): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false
    let channel: ClientChannel | null = null
    let exit: { code: number | null; signal: string | null } | null = null
    const done = (a: Attempt) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      client.removeListener('close', onLost)
      void spool.flush().then(() => resolve(a))
    }
    // A check we give up on: killed (where the server takes signals) and its channel closed, its later output dropped.
    const stop = (a: Attempt) => {
      if (channel) {
        channel.removeAllListeners('data')
        channel.stderr.removeAllListeners('data')
        channel.resume()
        channel.stderr.resume()
        try {
          channel.signal('KILL')
          channel.close()
        } catch {
          // the connection is gone already
        }
      }
      done(a)
    }
    const timer = setTimeout(() => stop({ end: 'overran', code: null, signal: null }), limitMs)
    const onAbort = () => stop({ end: 'cancelled', code: null, signal: null })
    const onLost = () => done({ end: 'lost', code: null, signal: null })
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    client.once('close', onLost)
    try {
      client.exec(command, (err, ch) => {
        if (settled) return void ch?.close()
        if (err) return done({ end: 'no channel', code: null, signal: null, reason: err.message })
        channel = ch
        ch.on('exit', (code: number | null, sig?: string) => {
          exit = { code: typeof code === 'number' ? code : null, signal: sig ? normalizeSignal(sig) : null }
        })
        const ended = Promise.all([spool.readFrom(ch), spool.readFrom(ch.stderr)])
        ch.on('close', () => void ended.then(() => done(exit ? { end: 'exit', ...exit } : { end: 'closed', code: null, signal: null })))
        ch.end()
      })
    } catch (err) {
      done({ end: 'lost', code: null, signal: null, reason: (err as Error).message })
    }
  })
}
