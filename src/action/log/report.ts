import { randomBytes } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import * as core from '@actions/core'
import type { Progress, Reporter } from '../../engine/fanout/fanout.js'
import type { OutputSpool } from '../../engine/output/spool.js'
import type { HostResult, HostStatus, HostTarget } from '../../engine/model.js'
import type { SessionOutcome } from '../../engine/host/session.js'
import { hostLabel } from '../../engine/targets/hosts.js'
import { formatSeconds } from '../../engine/format.js'
import type { LogDir } from '../results/log-dir.js'
import { countHosts } from '../../engine/format.js'
import { inert, MarkerBreaker, sanitizeLog } from './remote-text.js'

const ICONS: Record<HostStatus, string> = {
  success: '✅',
  failed: '❌',
  unhealthy: '💔',
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
      `${inert(`host key: ${result.hostKey.type} ${result.hostKey.fingerprint} (pin it with fingerprints: "${hostLabel(result.target.host, result.target.port)} ${result.hostKey.fingerprint}")`)}\n`,
    )
  }
  // A skipped host's reason is its title already.
  if (result.error && result.status !== 'success' && result.status !== 'skipped') await writeOut(`${inert(result.error)}\n`)
  if (output && output.totalBytes > 0) {
    const token = randomBytes(16).toString('hex')
    await writeOut(`::stop-commands::${token}\n`)
    let endsWithNewline = true
    const decoder = new StringDecoder('utf8')
    const markers = new MarkerBreaker()
    for await (const chunk of output.chunks()) {
      const text = markers.push(sanitizeLog(decoder.write(chunk)))
      if (text.length > 0) {
        endsWithNewline = /[\r\n]$/.test(text)
        await writeOut(text)
      }
    }
    const rest = markers.push(sanitizeLog(decoder.end())) + markers.end()
    if (rest.length > 0) endsWithNewline = /[\r\n]$/.test(rest)
    await writeOut(`${rest}${endsWithNewline ? '' : '\n'}::${token}::\n`)
  } else if (result.status !== 'skipped') {
    await writeOut('(no output)\n')
  }
  core.endGroup()
}
