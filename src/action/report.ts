import { randomBytes } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import * as core from '@actions/core'
import type { FanoutResult, Progress, Reporter } from '../engine/fanout/fanout.js'
import type { OutputSpool } from '../engine/output/spool.js'
import { describeThreshold, type Threshold } from '../engine/parse.js'
import { isFailure, type HostResult, type HostStatus, type HostTarget } from '../engine/model.js'
import { formatSeconds } from '../engine/format.js'
import type { SessionOutcome } from '../engine/host/session.js'
import type { LogDir } from './log-dir.js'
import { buildSummary, countHosts, type SummaryOptions } from './summary.js'

/** GitHub shows at most 10 error annotations per step, the setFailed one included. */
export const MAX_ERROR_ANNOTATIONS = 10

const ICONS: Record<HostStatus, string> = {
  success: '✅',
  failed: '❌',
  error: '⛔',
  timeout: '⏱️',
  skipped: '⏭️',
  cancelled: '🚫',
}

/** A byte count for people: `512 B`, `3.4 MB` (decimal units, as network speeds are given). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = n / 1000
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/** Writes to stdout, waiting for 'drain' when the pipe is full, so nothing is lost or reordered. */
export async function writeOut(text: string): Promise<void> {
  if (process.stdout.write(text)) return
  await new Promise<void>((resolve) => process.stdout.once('drain', resolve))
}

/** Turns engine events into the job log: one group per host, progress lines, retry notices. */
export class ActionReporter implements Reporter {
  /** Everything is printed through one queue, so groups never interleave with each other or with progress lines. */
  private queue: Promise<void> = Promise.resolve()
  private readonly showHostKeys: boolean
  private readonly logDir: LogDir | null

  constructor(opts: { showHostKeys: boolean; logDir?: LogDir | null }) {
    this.showHostKeys = opts.showHostKeys
    this.logDir = opts.logDir ?? null
  }

  hostFinished(result: HostResult, output: OutputSpool | null): Promise<void> {
    return this.enqueue(async () => {
      await printGroup(result, output, this.showHostKeys)
      await this.logDir?.writeHost(result, output)
    })
  }

  progress(p: Progress): void {
    const parts = (Object.keys(p.counts) as HostStatus[]).filter((s) => p.counts[s] > 0).map((s) => `${p.counts[s]} ${s}`)
    const sent = p.bytesSent > 0 ? `, ${formatBytes(p.bytesSent)} uploaded` : ''
    this.note(`ssh-fanout: ${p.finished}/${countHosts(p.total)} done, ${p.running} running${parts.length ? ` (${parts.join(', ')})` : ''}${sent}`)
  }

  batchStarted(batch: number, batches: number, hosts: number): void {
    this.note(`ssh-fanout: batch ${batch}/${batches}: ${hosts} ${hosts === 1 ? 'host' : 'hosts'}`)
  }

  pausing(nextBatch: number, batches: number, until: Date): void {
    this.note(`ssh-fanout: batch-pause: waiting until ${until.toISOString()} before batch ${nextBatch}/${batches} (cancelling the job ends the wait)`)
  }

  retrying(target: HostTarget, outcome: SessionOutcome, attempt: number, delayMs: number): void {
    this.note(`ssh-fanout: ${target.label}: attempt ${attempt} failed (${outcome.error ?? ''}); retrying in ${formatSeconds(delayMs)}`)
  }

  /** One line of our own, printed between host groups, never inside one. */
  note(line: string): void {
    void this.enqueue(() => writeOut(`${inert(line)}\n`))
  }

  /** Resolves when everything queued so far is written. */
  idle(): Promise<void> {
    return this.queue
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job, job)
    return this.queue
  }
}

export function groupTitle(r: HostResult): string {
  const detail = r.status === 'success' || r.status === 'failed' ? (r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`) : (r.error ?? r.status)
  const attempts = r.attempts > 1 ? `, ${r.attempts} attempts` : ''
  const took = r.status === 'skipped' ? '' : ` (${formatSeconds(r.durationMs)}${attempts})`
  return inert(`${ICONS[r.status]} ${r.status} ${r.target.label}: ${detail}${took}`)
}

/**
 * Prints one host's group (a skipped host has no output spool). The host's output sits between
 * stop-commands markers with a fresh random token, so nothing it prints can act as a workflow command.
 */
async function printGroup(result: HostResult, output: OutputSpool | null, showHostKey: boolean): Promise<void> {
  core.startGroup(groupTitle(result))
  if (result.hostKey && showHostKey) {
    await writeOut(
      `${inert(`host key: ${result.hostKey.type} ${result.hostKey.fingerprint} (pin it with fingerprints: "${result.target.label} ${result.hostKey.fingerprint}")`)}\n`,
    )
  }
  // A skipped host's reason is its title already.
  if (result.error && result.status !== 'success' && result.status !== 'skipped') await writeOut(`${inert(result.error)}\n`)
  if (output && output.totalBytes > 0) {
    const token = randomBytes(16).toString('hex')
    await writeOut(`::stop-commands::${token}\n`)
    let endsWithNewline = true
    const decoder = new StringDecoder('utf8')
    for await (const chunk of output.chunks()) {
      const text = sanitizeLog(decoder.write(chunk))
      if (text.length > 0) {
        endsWithNewline = /[\r\n]$/.test(text)
        await writeOut(text)
      }
    }
    const rest = sanitizeLog(decoder.end())
    if (rest.length > 0) endsWithNewline = /[\r\n]$/.test(rest)
    await writeOut(`${rest}${endsWithNewline ? '' : '\n'}::${token}::\n`)
  } else if (result.status !== 'skipped') {
    await writeOut('(no output)\n')
  }
  core.endGroup()
}

/** Control characters other than tab, newline, CR and ESC (colours) are shown as U+FFFD. */
export function sanitizeLog(text: string): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f\u007f]/g, '\ufffd')
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

/**
 * Text for one line of our own (an error message can quote a host, or anyone on the network
 * path): a single line in which the runner finds no workflow command. The runner reads
 * `::cmd::` at the start of a line and the legacy `##[cmd]` anywhere in it, so `::` at the start
 * becomes `: :` and every `##[` becomes `## [`. Used for titles and annotation text too.
 */
export function inert(text: string): string {
  return sanitizeLog(oneLine(text)).replace(/##\[/g, '## [').replace(/^::/, ': :')
}

/** The escaping the runner expects in a workflow command's data. */
export interface Verdict {
  failed: boolean
  message: string
}

/** `nothingToRun` says why there are no hosts (an empty shard), for a run of none. */
export function verdict(run: FanoutResult, threshold: Threshold, nothingToRun?: string): Verdict {
  const total = run.results.length
  if (total === 0) return { failed: false, message: `Nothing to run: ${nothingToRun ?? 'there are no hosts'}` }
  const failed = run.results.filter((r) => isFailure(r.status))
  const allowed = describeThreshold(threshold, total)
  if (run.cancelled) {
    return { failed: true, message: `The job was cancelled: ${failed.length} of ${countHosts(total)} did not finish successfully (${namesOf(failed)})` }
  }
  if (run.thresholdExceeded) {
    const skipped = run.results.filter((r) => r.status === 'skipped')
    const why = skipped.some((r) => r.batch === null && /later batches/.test(r.error ?? '')) ? 'later batches' : 'fail-fast'
    const tail = skipped.length > 0 ? `; ${skipped.length} ${skipped.length === 1 ? 'host was' : 'hosts were'} not started (${why})` : ''
    return { failed: true, message: `${failed.length} of ${countHosts(total)} failed, more than max-failures (${allowed}): ${namesOf(failed)}${tail}` }
  }
  if (failed.length > 0) {
    return { failed: false, message: `${failed.length} of ${countHosts(total)} failed, within max-failures (${allowed}): ${namesOf(failed)}` }
  }
  return { failed: false, message: total === 1 ? 'The 1 host succeeded' : `All ${total} hosts succeeded` }
}

function namesOf(results: HostResult[], max = 20): string {
  const names = results.slice(0, max).map((r) => `${r.target.label} (${r.status === 'failed' ? (r.signal ?? `exit ${r.exitCode}`) : r.status})`)
  const more = results.length > max ? `, and ${results.length - max} more` : ''
  return names.join(', ') + more
}

/** One error annotation per failed host, aggregated past GitHub's cap (which counts the setFailed one). */
export function annotateFailures(run: FanoutResult, stepFails: boolean): void {
  // A bastion that cannot be had is said once (run.ts), not once per host.
  const failed = run.results.filter((r) => isFailure(r.status) && r.errorKind !== 'jump host')
  const budget = MAX_ERROR_ANNOTATIONS - (stepFails ? 1 : 0) - (run.results.some((r) => r.errorKind === 'jump host') ? 1 : 0)
  const individual = failed.length <= budget ? failed : failed.slice(0, budget - 1)
  for (const r of individual) {
    const why = r.status === 'failed' ? (r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`) : (r.error ?? r.status)
    core.error(inert(`${r.target.label}: ${r.status}: ${why}`), { title: inert(`ssh-fanout: ${r.target.label} ${r.status}`) })
  }
  const rest = failed.slice(individual.length)
  if (rest.length > 0) {
    const names = rest
      .slice(0, 50)
      .map((r) => r.target.label)
      .join(', ')
    core.error(inert(`${countHosts(rest.length, 'more')} failed: ${names}${rest.length > 50 ? ', …' : ''} (see the job summary)`), {
      title: `ssh-fanout: ${countHosts(rest.length, 'more')} failed`,
    })
  }
}

/** Writes the job summary when the runner provides a summary file. */
export async function writeSummary(run: FanoutResult, v: Verdict, extra: SummaryOptions): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.info('ssh-fanout: GITHUB_STEP_SUMMARY is not set, so no job summary was written')
    return
  }
  await core.summary.addRaw(buildSummary(run, v, extra), true).write()
}
