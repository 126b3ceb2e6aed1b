import { randomBytes } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import * as core from '@actions/core'
import type { PreflightSummary, Progress, Reporter, RollbackSummary } from '../../engine/fanout/types.js'
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

  hostFinished(result: HostResult, output: OutputSpool | null, check?: OutputSpool | null): Promise<void> {
    return this.enqueue(async () => {
      await printGroup(result, output, this.showHostKeys, check ?? null)
      await this.logDir?.writeHost(result, output)
    })
  }

  preflightStarted(hosts: number): void {
    this.note(
      `ssh-fanout: preflight: ${countHosts(hosts)}: connecting, checking host keys and logging in (and the preflight-command, if set) before any host runs the command`,
    )
  }

  preflightFinished(p: PreflightSummary): void {
    const failed = p.failed > 0 ? `; ${p.failed} failed` : ''
    const halted = p.halted ? ', more than max-failures allows: no host runs the command' : p.failed > 0 ? ', within max-failures: the others go on' : ''
    this.note(`ssh-fanout: preflight: ${p.passed} of ${countHosts(p.hosts)} passed in ${formatSeconds(p.durationMs)}${failed}${halted}`)
  }

  soakStarted(batch: number, batches: number, hosts: number): void {
    this.note(`ssh-fanout: soak check: check-command once more on the ${countHosts(hosts)} of batch ${batch}/${batches} that succeeded, over new connections`)
  }

  soakFailed(result: HostResult, output: OutputSpool | null): Promise<void> {
    return this.enqueue(async () => {
      core.startGroup(groupTitle(result))
      if (result.error) await writeOut(`${inert(result.error)}\n`)
      for (const line of result.check?.log ?? []) await writeOut(`${inert(line)}\n`)
      await printOutput(output)
      core.endGroup()
    })
  }

  rollbackStarted(reason: string, hosts: number, batches: number): void {
    const order = batches > 1 ? `, batch by batch, the latest first` : ''
    this.note(`ssh-fanout: rollout halted (${reason}); running rollback-command on the ${countHosts(hosts)} the command reached${order}`)
  }

  rollbackFinished(result: HostResult, output: OutputSpool | null): Promise<void> {
    return this.enqueue(async () => {
      const rb = result.rollback!
      const detail = rb.error ?? (rb.exitCode === null ? 'killed by a signal' : `exit ${rb.exitCode}`)
      core.startGroup(inert(`${ROLLBACK_ICONS[rb.status]} rollback ${rb.status} ${result.target.label}: ${detail} (${formatSeconds(rb.durationMs)})`))
      if (rb.error) await writeOut(`${inert(rb.error)}\n`)
      await printOutput(output)
      core.endGroup()
    })
  }

  rollbackDone(r: RollbackSummary): void {
    this.note(
      `ssh-fanout: rolled back ${r.succeeded} of ${r.hosts} changed ${r.hosts === 1 ? 'host' : 'hosts'} (${r.failed} failed) in ${formatSeconds(r.durationMs)}`,
    )
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

const ROLLBACK_ICONS: Record<NonNullable<HostResult['rollback']>['status'], string> = { success: '↩️', failed: '❌', error: '⛔', timeout: '⏱️' }

export function groupTitle(r: HostResult): string {
  const exit = r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`
  const detail = r.status === 'success' || r.status === 'failed' ? exit : r.status === 'unhealthy' ? `health check ${exit}` : (r.error ?? r.status)
  const attempts = r.attempts > 1 ? `, ${r.attempts} attempts` : ''
  const took = r.status === 'skipped' ? '' : ` (${formatSeconds(r.durationMs)}${attempts})`
  return inert(`${ICONS[r.status]} ${r.status} ${r.target.label}: ${detail}${took}`)
}

/**
 * Prints one host's group (a skipped host has no output spool). The host's output sits between
 * stop-commands markers with a fresh random token, so nothing it prints can act as a workflow command.
 */
async function printGroup(result: HostResult, output: OutputSpool | null, showHostKey: boolean, check: OutputSpool | null): Promise<void> {
  core.startGroup(groupTitle(result))
  if (result.hostKey && showHostKey) {
    await writeOut(
      `${inert(`host key: ${result.hostKey.type} ${result.hostKey.fingerprint} (pin it with fingerprints: "${hostLabel(result.target.host, result.target.port)} ${result.hostKey.fingerprint}")`)}\n`,
    )
  }
  // A skipped host's reason is its title already.
  if (result.error && result.status !== 'success' && result.status !== 'skipped') await writeOut(`${inert(result.error)}\n`)
  if (output || result.status !== 'skipped') await printOutput(output)
  if (result.check) {
    for (const line of result.check.log) await writeOut(`${inert(line)}\n`)
    if (result.check.attempts > 0) {
      await writeOut(`check output (attempt ${result.check.attempts}/${result.check.planned}):\n`)
      await printOutput(check)
    }
  }
  core.endGroup()
}

/** A host's output between stop-commands markers, or `(no output)`. */
async function printOutput(output: OutputSpool | null): Promise<void> {
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
  } else {
    await writeOut('(no output)\n')
  }
}
