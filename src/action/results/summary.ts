import type { FanoutResult } from '../../engine/fanout/fanout.js'
import * as core from '@actions/core'
import { isFailure, TAIL_LINES, type HostResult, type HostStatus } from '../../engine/model.js'
import { maskSecrets } from '../../engine/output/secrets.js'
import { countHosts, formatSeconds } from '../../engine/format.js'
import type { OutputTrim } from './outputs.js'
import { rollbackLine, type MissingHosts, type Verdict } from './verdict.js'
import { foldHosts } from '../../engine/targets/nodeset.js'
import { gatherKey, gatherRows } from './gather.js'

/** GitHub's job summary limit is 1 MiB per step; leave room for the header and the closing notes. */
export const SUMMARY_BUDGET = 900 * 1024
const STATUS_ORDER: HostStatus[] = ['error', 'timeout', 'failed', 'unhealthy', 'cancelled', 'skipped', 'success']
const CELL_CHARS = 2000

/**
 * Escapes text for HTML exactly as the runner XML-escapes a secret (.NET SecurityElement.Escape:
 * `&amp; &lt; &gt; &quot; &apos;`), so that the runner, which masks a secret's raw and
 * XML-escaped forms, still finds a secret here.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/**
 * Text for the summary: escaped, and on one source line (line breaks as `&#10;`). The summary is
 * one HTML block, which a blank line would end: GitHub would then read the rest as Markdown, and
 * a host's output could add links, images and headings.
 */
export function htmlText(text: string): string {
  return escapeHtml(text).replace(/\r\n|\r|\n/g, '&#10;')
}

/** Removes ANSI escape sequences (colours, cursor movement) and other control characters. */
export function stripAnsi(text: string): string {
  // CSI (colours, cursor), OSC (titles, links), then any other escape: nF (ESC ( B), Fp (ESC 7), Fe, Fs.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const escapes = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[ -/]*[0-~]/g
  // eslint-disable-next-line no-control-regex -- as above
  const controls = /[\u0000-\u0008\u000b-\u001f\u007f]/g
  return text.replace(escapes, '').replace(controls, '')
}

/** The run's repository, commit and link, from the workflow context (when the runner provides it). */
function contextLine(env: NodeJS.ProcessEnv = process.env): string {
  // Read from the runner's variables, as @actions/github's context does (without loading Octokit).
  const repo = env.GITHUB_REPOSITORY
  if (!repo) return ''
  const { GITHUB_SHA: sha, GITHUB_RUN_ID: runId, GITHUB_WORKFLOW: workflow, GITHUB_JOB: job } = env
  const server = env.GITHUB_SERVER_URL || 'https://github.com'
  const at = sha ? ` at <code>${htmlText(sha.slice(0, 12))}</code>` : ''
  const link = runId ? `, <a href="${htmlText(`${server}/${repo}/actions/runs/${runId}`)}">run ${htmlText(runId)}</a>` : ''
  const where = workflow ? ` (${htmlText(workflow)}` + (job ? ` / ${htmlText(job)})` : ')') : ''
  return `<p>${htmlText(repo)}${at}${where}${link}</p>\n`
}

/** Error, health check and last output lines; secrets are masked before the cut, so no part of one is left. */
function detailCell(group: HostResult[], lines: number, secrets: readonly string[]): string {
  const [r] = group
  const parts: string[] = []
  if (r.error && r.status !== 'success') parts.push(`<strong>${htmlText(stripAnsi(maskSecrets(r.error, secrets)))}</strong>`)
  const check = checkText(group)
  // An unhealthy host's error says how its check failed already; beside another error, the check is a plain second line.
  const saidAlready = r.status === 'unhealthy' && r.check?.soak !== 'failed'
  if (check && parts.length > 0 && !saidAlready) parts.push(`<br>${htmlText(check.text)}`)
  else if (check && parts.length === 0) parts.push(check.passed ? htmlText(check.text) : `<strong>${htmlText(check.text)}</strong>`)
  const tail = r.tail.slice(-lines).map(stripAnsi)
  if (tail.length > 0) {
    let text = maskSecrets(tail.join('\n'), secrets)
    if (text.length > CELL_CHARS) text = `…${text.slice(-CELL_CHARS)}`
    parts.push(`<pre>${htmlText(text)}</pre>`)
  }
  return parts.join('')
}

/**
 * The health check in a few words: `health check passed on attempt 3/12`, `health check failed
 * 12 attempts (exit 7)`, the soak check after it. A row's hosts agree on all but the attempts
 * (see gatherResults), which show as a range over them, as durations do.
 */
function checkText(group: HostResult[]): { text: string; passed: boolean } | null {
  const [{ check, status }] = group
  if (check === null) return null
  const attempts = group.map((h) => h.check?.attempts ?? 0)
  const [min, max] = [Math.min(...attempts), Math.max(...attempts)]
  const exit = check.exitCode === null ? 'no exit code' : `exit ${check.exitCode}`
  const on = min === max ? `attempt ${min}/${check.planned}` : `attempts ${min}–${max} of ${check.planned}`
  if (check.soak === 'failed') return { text: `health check passed on ${on}; soak check failed (${exit})`, passed: false }
  if (check.exitCode === 0) return { text: `health check passed on ${on}${check.soak === 'ok' ? '; soak check passed' : ''}`, passed: true }
  const count = min === max ? `${min} ${min === 1 ? 'attempt' : 'attempts'}` : `${min}–${max} attempts`
  // Not unhealthy: the host ended otherwise (connection lost, cancelled) before the check's verdict.
  return { text: `health check ${status === 'unhealthy' ? 'failed' : 'stopped after'} ${count} (${exit})`, passed: false }
}

/** How the rollback ended: `success`, `failed (exit 3)`, `error: <why>`; empty when none ran. */
function rollbackCell(r: HostResult, secrets: readonly string[]): string {
  const rb = r.rollback
  if (rb === null) return ''
  if (rb.error !== null) return htmlText(stripAnsi(maskSecrets(`${rb.status}: ${rb.error}`, secrets)).slice(0, CELL_CHARS))
  return rb.status === 'failed' && rb.exitCode !== null ? `failed (exit ${rb.exitCode})` : rb.status
}

function exitCell(r: HostResult): string {
  if (r.signal) return htmlText(r.signal)
  return r.exitCode === null ? '' : String(r.exitCode)
}

/**
 * Hosts whose results look the same (batch, status, exit code or signal, output tail, error,
 * how the rollback ended, the health check's outcome but not its attempts) share a row.
 */
function gatherResults(sorted: HostResult[]): HostResult[][] {
  const key = (r: HostResult) =>
    JSON.stringify([
      r.batch,
      gatherKey(r.status, r.exitCode, r.signal, r.tail, r.error),
      r.rollback && [r.rollback.status, r.rollback.exitCode, r.rollback.error],
      r.check && [r.check.planned, r.check.exitCode, r.check.soak],
    ])
  return gatherRows(sorted, key).map((g) => g.items)
}

/** The optional columns: Batch (some host ran in a batch), Rollback (some host was rolled back). */
interface Columns {
  batches: boolean
  rollbacks: boolean
}

/** One row for a group of alike hosts: their names folded (`web[01-37].example.com`), the count when more than one. */
function row(group: HostResult[], lines: number, secrets: readonly string[], cols: Columns): string {
  const [r] = group
  const names = `<code>${htmlText(foldHosts(group.map((h) => h.target.label)))}</code>${group.length > 1 ? ` (${group.length} hosts)` : ''}`
  const cells = [
    ...(cols.batches ? [r.batch === null ? '' : String(r.batch)] : []),
    names,
    r.status,
    exitCell(r),
    r.status === 'skipped' ? '' : durationCell(group),
    ...(cols.rollbacks ? [rollbackCell(r, secrets)] : []),
    detailCell(group, lines, secrets),
  ]
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>\n`
}

/** One host's duration, or the range over a group. */
function durationCell(group: HostResult[]): string {
  const ms = group.map((h) => h.durationMs)
  const [min, max] = [Math.min(...ms), Math.max(...ms)]
  return min === max ? formatSeconds(min) : `${formatSeconds(min)} – ${formatSeconds(max)}`
}

/** Failures first (errors, timeouts, failed, unhealthy, cancelled), then skipped, then successes; host order within each. */
export function sortForSummary(results: HostResult[]): HostResult[] {
  return results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => STATUS_ORDER.indexOf(a.r.status) - STATUS_ORDER.indexOf(b.r.status) || a.i - b.i)
    .map(({ r }) => r)
}

export type SummaryOptions = Partial<OutputTrim> & {
  tailLines: number
  hostKeysShown: boolean
  /** Masked before any text is cut. */
  secrets?: readonly string[]
  /** Which shard ran, e.g. `shard 2/4: hosts 11-20 of 40`. */
  shard?: string
  /** report-from: the shards that reported nothing, counted as failures of all their hosts. */
  missing?: readonly MissingHosts[]
}

/** What the outputs could not carry, said in the summary. */
function trimNotes(opts: SummaryOptions): string[] {
  const notes: string[] = []
  const limit = "to stay under GitHub's 1 MB output limit"
  if (opts.tailLines < TAIL_LINES)
    notes.push(`The <code>output</code> field of the <code>results</code> output keeps only the last ${opts.tailLines} lines per host, ${limit}.`)
  if (opts.errorsShortened) notes.push('The <code>error</code> field of the <code>results</code> output is shortened too, for the same reason.')
  if (opts.droppedFields?.length)
    notes.push(
      `The <code>results</code> output leaves out these fields of every entry, ${limit}: ${opts.droppedFields.map((f) => `<code>${f}</code>`).join(', ')}.`,
    )
  if (opts.hostsLeftOut)
    notes.push(`<strong>The <code>results</code> output is incomplete</strong>: it leaves out the last ${countHosts(opts.hostsLeftOut)}, ${limit}.`)
  if (opts.listsCut?.length)
    notes.push(
      `<strong>The ${andList(opts.listsCut.map((o) => `<code>${o}</code>`))} output ${opts.listsCut.length > 1 ? 'lists are' : 'list is'} incomplete</strong>: ${limit}, ${opts.listsCut.length > 1 ? 'they name' : 'it names'} only the first hosts; the counts are exact.`,
    )
  if (opts.resultsFile) notes.push(`Every host's full entry is in <code>${htmlText(opts.resultsFile)}</code> (the <code>results-file</code> output).`)
  return notes
}

/** `a`, `a and b`, `a, b and c`. */
function andList(items: string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : items.join('')
}

/** `shard 3/8 reported nothing (5 hosts, counted as failed)`, one line per missing shard. */
function missingLines(missing: readonly MissingHosts[]): string {
  return missing.map((m) => `<p><strong>shard ${htmlText(m.shard)} reported nothing</strong> (${countHosts(m.hosts)}, counted as failed)</p>\n`).join('')
}

/** The preflight and rollback lines, when they ran. */
function safetyLines(run: FanoutResult, secrets: readonly string[]): string {
  let html = ''
  const p = run.preflight
  if (p) {
    const halted = p.halted ? `; ${p.failed} failed, more than max-failures allows, so no host ran the command` : ''
    html += `<p>preflight: ${p.passed} of ${countHosts(p.hosts)} passed in ${formatSeconds(p.durationMs)}${halted}</p>\n`
  }
  const rb = run.rollback
  if (rb) {
    const took = rb.hosts > 0 ? ` in ${formatSeconds(rb.durationMs)}` : ''
    html += `<p>${htmlText(rollbackLine(rb))}${took}; the rollout halted: ${htmlText(stripAnsi(maskSecrets(rb.reason, secrets)))}</p>\n`
  }
  return html
}

/** The job summary as HTML: verdict, counts, context and the results table, kept under the 1 MiB limit. */
export function buildSummary(run: FanoutResult, verdict: Verdict, opts: SummaryOptions): string {
  const secrets = opts.secrets ?? []
  const icon = verdict.failed ? '❌' : run.failures > 0 ? '⚠️' : '✅'
  const missing = opts.missing ?? []
  const unreported = missing.reduce((n, m) => n + m.hosts, 0)
  const counts = [...STATUS_ORDER.map((s) => [s, run.results.filter((r) => r.status === s).length] as const), ['not reported', unreported] as const]
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(' · ')
  const shard = opts.shard ? ` · ${htmlText(opts.shard)}` : ''
  let html = `<h2>${icon} ssh-fanout</h2>\n<p><strong>${htmlText(verdict.message)}</strong></p>\n<p>${counts}${shard}</p>\n${missingLines(missing)}${safetyLines(run, secrets)}${contextLine()}`
  const notes = trimNotes(opts)
  if (opts.hostKeysShown)
    notes.push(
      "strict-host-key-checking is off: host keys were accepted without checking. Each host's key fingerprint is in its log group; pin them with <code>fingerprints</code>.",
    )

  const cols: Columns = { batches: run.results.some((r) => r.batch !== null), rollbacks: run.results.some((r) => r.rollback !== null) }
  const header =
    `<table>\n<tr>${cols.batches ? '<th>Batch</th>' : ''}<th>Host</th><th>Status</th><th>Exit</th><th>Duration</th>` +
    `${cols.rollbacks ? '<th>Rollback</th>' : ''}<th>Error / last output</th></tr>\n`
  const groups = gatherResults(sortForSummary(run.results))
  // Fewer output lines per row for big fleets, so the table fits.
  let lines = TAIL_LINES
  let rows = groups.map((g) => row(g, lines, secrets, cols))
  while (lines > 1 && size(rows) + html.length > SUMMARY_BUDGET) {
    lines = Math.max(1, Math.floor(lines / 2))
    rows = groups.map((g) => row(g, isFailure(g[0].status) ? lines : Math.min(lines, 1), secrets, cols))
  }
  let used = html.length + header.length
  let shown = 0
  for (const r of rows) {
    if (used + Buffer.byteLength(r) > SUMMARY_BUDGET) break
    used += Buffer.byteLength(r)
    shown += 1
  }
  // No table for a run of no hosts (an empty shard): the verdict says so.
  if (groups.length > 0) html += header + rows.slice(0, shown).join('') + '</table>\n'
  const hidden = groups.slice(shown).reduce((n, g) => n + g.length, 0)
  if (hidden > 0) {
    // When the results output left hosts out too, only the results file has them all.
    const everyHost = opts.hostsLeftOut
      ? `the file named by the <code>results-file</code> output${opts.resultsFile ? ` (<code>${htmlText(opts.resultsFile)}</code>)` : ''} lists every host`
      : 'the <code>results</code> output lists every host'
    notes.push(`${countHosts(hidden, 'more')} ${hidden === 1 ? 'is' : 'are'} not shown, to stay under GitHub's 1 MiB summary limit; ${everyHost}.`)
  }
  if (lines < TAIL_LINES) notes.push(`Rows show at most the last ${lines} output lines, to fit the summary.`)
  for (const n of notes) html += `<p>${n}</p>\n`
  return html
}

function size(rows: string[]): number {
  return rows.reduce((n, r) => n + Buffer.byteLength(r), 0)
}

/** Writes the job summary when the runner provides a summary file. */
export async function writeSummary(run: FanoutResult, v: Verdict, extra: SummaryOptions): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.info('ssh-fanout: GITHUB_STEP_SUMMARY is not set, so no job summary was written')
    return
  }
  await core.summary.addRaw(buildSummary(run, v, extra), true).write()
}
