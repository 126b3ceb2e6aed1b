import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { isFailure, TAIL_LINES, type HostResult, type HostRollback } from '../../engine/model.js'
import { maskSecrets } from '../../engine/output/secrets.js'
import { writeNewFile } from '../local-files.js'
import type { MissingHosts } from './verdict.js'

/**
 * What all outputs together may hold, in UTF-16 code units (a JavaScript string's length).
 * GitHub: "Outputs can be a maximum of 1 MB per job … Size is approximated based on UTF-16
 * encoding", that is 2 bytes per code unit, so 1 MB is 500,000 code units for every output of the
 * job together. 450,000 (900,000 bytes in UTF-16) leaves 50,000 for the output names and for
 * outputs of other steps mapped into the same job's `outputs`. An ASCII character counts 1 here,
 * as does `é` or `日`; a character beyond the BMP (an emoji) counts 2.
 */
export const OUTPUTS_BUDGET = 450_000

/**
 * When the `results` entries do not fit even with no output lines and errors cut to their
 * class, these fields are dropped from every entry, in this order, until they fit: the bulky
 * and the derivable first, then the details of the safe rollout, `rollback` last of them as
 * what a later rollback step reads (with `changed` and `rolled-back`, which are lists of their own).
 * `host` and `status` are always kept.
 */
export const DROP_ORDER = [
  'output',
  'error',
  'check',
  'groups',
  'signal',
  'attempts',
  'batch',
  'durationMs',
  'preflight',
  'rollback',
  'address',
  'username',
  'port',
  'exitCode',
] as const
type Field = (typeof DROP_ORDER)[number]

export interface ResultsJson {
  json: string
  /** Output lines kept per host (TAIL_LINES when none were cut). */
  tailLines: number
  errorsShortened: boolean
  /** Fields dropped from every entry, in DROP_ORDER. */
  droppedFields: Field[]
  /** Hosts at the end of the list left out of `results` because even `host` and `status` did not fit. */
  hostsLeftOut: number
}

/** What the outputs could not carry in full; the summary says so. */
export interface OutputTrim {
  tailLines: number
  errorsShortened: boolean
  droppedFields: string[]
  hostsLeftOut: number
  /** The host lists (`succeeded`, `failed`, `changed`, `rolled-back`) cut to the hosts that fit, in that order. */
  listsCut: string[]
  /** The file holding every host's full entry, when `results` was trimmed at all. */
  resultsFile: string | null
}

export function resultEntry(r: HostResult, tailLines = TAIL_LINES, secrets: readonly string[] = []) {
  return {
    // From an inventory: the inventory name; `address` is what was connected to (ansible_host).
    host: r.target.inventory?.name ?? r.target.host,
    address: r.target.host,
    port: r.target.port,
    username: r.target.username,
    status: r.status,
    exitCode: r.exitCode,
    signal: r.signal,
    error: r.error === null ? null : maskSecrets(r.error, secrets),
    durationMs: r.durationMs,
    output: tailLines > 0 ? maskSecrets(r.tail.slice(-tailLines).join('\n'), secrets) : '',
    attempts: r.attempts,
    batch: r.batch,
    groups: r.target.inventory?.groups ?? [],
    preflight: r.preflight,
    check: r.check === null ? null : { attempts: r.check.attempts, exitCode: r.check.exitCode, durationMs: r.check.durationMs, soak: r.check.soak },
    rollback: r.rollback === null ? null : rollbackEntry(r.rollback, tailLines, secrets),
  }
}

/**
 * The rollback's run as `results` has it: its last `tailLines` output lines and, when it did not
 * run to an exit status, why, as one more last line (so it goes with the output when lines are cut).
 */
function rollbackEntry(rb: HostRollback, tailLines: number, secrets: readonly string[]) {
  const lines = tailLines > 0 ? [...rb.tail.slice(-tailLines), ...(rb.error === null ? [] : [rb.error])] : []
  return { status: rb.status, exitCode: rb.exitCode, durationMs: rb.durationMs, output: maskSecrets(lines.join('\n'), secrets) }
}
type Entry = Partial<ReturnType<typeof resultEntry>>

/** A text's size as GitHub counts outputs: UTF-16 code units. */
export const utf16Units = (text: string): number => text.length

/**
 * The `results` entries as JSON, at most `budget` UTF-16 code units, in host order. Cut step by
 * step until they fit: fewer output lines (20, 10, 5, 2, 1, 0), errors cut to 80 characters then
 * to their class, fields dropped in DROP_ORDER, and last the hosts at the end of the list.
 */
export function resultsJson(results: HostResult[], secrets: readonly string[] = [], budget = OUTPUTS_BUDGET): ResultsJson {
  const fits = (text: string) => utf16Units(text) <= budget
  const done = (entries: Entry[], tailLines: number, errorsShortened: boolean, droppedFields: Field[] = []): ResultsJson | null => {
    const json = JSON.stringify(entries)
    return fits(json) ? { json, tailLines, errorsShortened, droppedFields, hostsLeftOut: 0 } : null
  }
  for (const lines of [20, 10, 5, 2, 1, 0]) {
    const found = done(
      results.map((r) => resultEntry(r, lines, secrets)),
      lines,
      false,
    )
    if (found) return found
  }
  let entries: Entry[] = []
  for (const maxError of [80, 0]) {
    entries = results.map((r) => ({ ...resultEntry(r, 0, secrets), error: shorten(r, maxError, secrets) }))
    const found = done(entries, 0, true)
    if (found) return found
  }
  const dropped: Field[] = []
  for (const field of DROP_ORDER) {
    dropped.push(field)
    entries = entries.map(({ [field]: _, ...rest }) => rest)
    const found = done(entries, 0, true, [...dropped])
    if (found) return found
  }
  // Even `host` and `status` alone are too much: keep the hosts that fit, in order.
  return leaveOut(entries, budget)
}

/** `host` and `status` only (every field of DROP_ORDER dropped), as many hosts as fit in `budget`, in order. */
function leaveOut(entries: Entry[], budget: number): ResultsJson {
  const kept = howManyFit(
    entries.map((e) => utf16Units(JSON.stringify(e))),
    2,
    budget,
  )
  return {
    json: JSON.stringify(entries.slice(0, kept)),
    tailLines: 0,
    errorsShortened: true,
    droppedFields: [...DROP_ORDER],
    hostsLeftOut: entries.length - kept,
  }
}

/** An error message cut to `max` characters (secrets masked first); with 0, just its class (e.g. `refused`). */
function shorten(r: HostResult, max: number, secrets: readonly string[]): string | null {
  if (r.error === null) return null
  if (max === 0) return r.errorKind ?? maskSecrets(r.error.split(':')[0], secrets)
  const error = maskSecrets(r.error, secrets)
  return error.length > max ? `${error.slice(0, max - 1)}…` : error
}

/** How many items, in order, fit in `budget`: `overhead`, plus one separator between items. */
function howManyFit(sizes: number[], overhead: number, budget: number): number {
  let used = overhead
  for (let i = 0; i < sizes.length; i++) {
    used += sizes[i] + (i > 0 ? 1 : 0)
    if (used > budget) return i
  }
  return sizes.length
}

/** Names one per line, as many whole lines as fit in `budget`. */
function nameList(names: string[], budget: number): { text: string; cut: boolean } {
  const kept = howManyFit(names.map(utf16Units), 0, budget)
  return { text: names.slice(0, kept).join('\n'), cut: kept < names.length }
}

/** The host lists, in the order they keep their names when they must be cut (what a failed deploy needs first). */
export const LIST_PRIORITY = ['failed', 'changed', 'rolled-back', 'succeeded'] as const
type ListName = (typeof LIST_PRIORITY)[number]
/** The order `listsCut` names them in: the outputs' own. */
const LIST_ORDER: readonly ListName[] = ['succeeded', 'failed', 'changed', 'rolled-back']

/** Who is on each list, in host order. */
const MEMBERS: Record<ListName, (r: HostResult) => boolean> = {
  succeeded: (r) => r.status === 'success',
  failed: (r) => isFailure(r.status),
  // The command's exec request was sent: the set a later rollback step needs.
  changed: (r) => r.changed,
  'rolled-back': (r) => r.rollback?.status === 'success',
}

type OutputName = 'results' | ListName | `${ListName}-count` | 'results-file' | 'missing-shards'

export interface Outputs {
  values: Record<OutputName, string>
  trim: Omit<OutputTrim, 'resultsFile'>
  /** Every host's full entry, for the results file. */
  fullJson: string
}

/**
 * Every output's value, all of them together at most OUTPUTS_BUDGET UTF-16 code units whatever the
 * host names (`resultsFile`, the path results-file would name, is counted whether or not it is used).
 * The budget goes first to the counts and results-file, then to `results` beside the full host
 * lists, trimmed as resultsJson says. Only when even `host` and `status` of every host do not fit
 * beside the lists are the lists cut, in LIST_PRIORITY: each keeps as many whole names as fit in
 * what the ones before it left, and once one is cut the rest are empty. Only when they are empty
 * are hosts left out of `results`.
 */
export function buildOutputs(
  results: HostResult[],
  secrets: readonly string[] = [],
  resultsFile = '',
  budget = OUTPUTS_BUDGET,
  missing: readonly MissingHosts[] = [],
): Outputs {
  const names = Object.fromEntries(LIST_ORDER.map((l) => [l, results.filter(MEMBERS[l]).map((r) => r.target.label)])) as Record<ListName, string[]>
  const counts = Object.fromEntries(LIST_ORDER.map((l) => [`${l}-count`, String(names[l].length)])) as Record<`${ListName}-count`, string>
  // report-from: a shard that reported nothing fails all its hosts; `failed` names only the hosts known by name.
  counts['failed-count'] = String(names.failed.length + missing.reduce((n, m) => n + m.hosts, 0))
  // At most 256 shards of `256/256`: always kept whole, like the counts.
  const missingShards = missing.map((m) => m.shard).join('\n')
  const fixed = utf16Units(resultsFile) + utf16Units(missingShards) + Object.values(counts).reduce((n, c) => n + utf16Units(c), 0)
  const fullLists = LIST_ORDER.reduce((n, l) => n + utf16Units(names[l].join('\n')), 0)
  let trimmed = resultsJson(results, secrets, budget - fixed - fullLists)
  if (trimmed.hostsLeftOut > 0) {
    trimmed = leaveOut(
      results.map((r) => ({ host: r.target.host, status: r.status })),
      budget - fixed,
    )
  }
  const { json, tailLines, errorsShortened, droppedFields, hostsLeftOut } = trimmed
  let room = budget - fixed - utf16Units(json)
  const lists = {} as Record<ListName, { text: string; cut: boolean }>
  for (const l of LIST_PRIORITY) {
    lists[l] = nameList(names[l], room)
    // Strictly in priority: a list after a cut one gets nothing, not the names that happen to fit.
    room = lists[l].cut ? 0 : room - utf16Units(lists[l].text)
  }
  return {
    values: {
      results: json,
      succeeded: lists.succeeded.text,
      failed: lists.failed.text,
      changed: lists.changed.text,
      'rolled-back': lists['rolled-back'].text,
      ...counts,
      'results-file': '',
      'missing-shards': missingShards,
    },
    trim: { tailLines, errorsShortened, droppedFields, hostsLeftOut, listsCut: LIST_ORDER.filter((l) => lists[l].cut) },
    fullJson: fullResultsJson(results, secrets),
  }
}

/** Every host's entry, untrimmed: the results file and log-dir's results.json. */
export function fullResultsJson(results: HostResult[], secrets: readonly string[] = []): string {
  return JSON.stringify(results.map((r) => resultEntry(r, TAIL_LINES, secrets)))
}

/** True when some output does not carry everything: then the full results go to a file. */
export function isTrimmed(trim: Outputs['trim']): boolean {
  return trim.tailLines < TAIL_LINES || trim.errorsShortened || trim.droppedFields.length > 0 || trim.hostsLeftOut > 0 || trim.listsCut.length > 0
}

/**
 * Sets every output. When any was trimmed to fit GitHub's limit, every host's full entry is
 * written to a JSON file under RUNNER_TEMP, named by the `results-file` output.
 */
export function setOutputs(results: HostResult[], secrets: readonly string[] = [], missing: readonly MissingHosts[] = []): OutputTrim {
  const path = join(process.env.RUNNER_TEMP || tmpdir(), `ssh-fanout-results-${randomBytes(6).toString('hex')}.json`)
  const { values, trim, fullJson } = buildOutputs(results, secrets, path, OUTPUTS_BUDGET, missing)
  let resultsFile: string | null = null
  if (isTrimmed(trim)) {
    resultsFile = path
    writeNewFile(resultsFile, fullJson, 0o600)
    values['results-file'] = resultsFile
  }
  for (const [name, value] of Object.entries(values)) core.setOutput(name, value)
  return { ...trim, resultsFile }
}
