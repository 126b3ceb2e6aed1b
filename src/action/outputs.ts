import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { isFailure, TAIL_LINES, type HostResult } from '../engine/model.js'
import { maskSecrets } from '../engine/output/secrets.js'

/** GitHub's limit for one output is 1 MB; every output stays at or below this many bytes. */
export const MAX_OUTPUT_BYTES = 900_000

/**
 * When the `results` entries do not fit even with no output lines and errors cut to their
 * class, these fields are dropped from every entry, in this order, until they fit.
 * `host` and `status` are always kept.
 */
export const DROP_ORDER = ['output', 'error', 'signal', 'attempts', 'batch', 'durationMs', 'username', 'port', 'exitCode'] as const
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
  /** `succeeded` / `failed` when cut to the hosts that fit. */
  listsCut: string[]
  /** The file holding every host's full entry, when `results` was trimmed at all. */
  resultsFile: string | null
}

export function resultEntry(r: HostResult, tailLines = TAIL_LINES, secrets: readonly string[] = []) {
  return {
    host: r.target.host,
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
  }
}
type Entry = Partial<ReturnType<typeof resultEntry>>

const fits = (text: string) => Buffer.byteLength(text) <= MAX_OUTPUT_BYTES

/**
 * The `results` entries as JSON, at most MAX_OUTPUT_BYTES, in host order. Cut step by step
 * until they fit: fewer output lines (20, 10, 5, 2, 1, 0), errors cut to 80 characters then
 * to their class, fields dropped in DROP_ORDER, and last the hosts at the end of the list.
 */
export function resultsJson(results: HostResult[], secrets: readonly string[] = []): ResultsJson {
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
  const kept = howManyFit(
    entries.map((e) => Buffer.byteLength(JSON.stringify(e))),
    2,
  )
  return { json: JSON.stringify(entries.slice(0, kept)), tailLines: 0, errorsShortened: true, droppedFields: dropped, hostsLeftOut: entries.length - kept }
}

/** An error message cut to `max` characters (secrets masked first); with 0, just its class (e.g. `refused`). */
function shorten(r: HostResult, max: number, secrets: readonly string[]): string | null {
  if (r.error === null) return null
  if (max === 0) return r.errorKind ?? maskSecrets(r.error.split(':')[0], secrets)
  const error = maskSecrets(r.error, secrets)
  return error.length > max ? `${error.slice(0, max - 1)}…` : error
}

/** How many items, in order, fit in MAX_OUTPUT_BYTES: `overhead` bytes, plus one separator between items. */
function howManyFit(sizes: number[], overhead: number): number {
  let used = overhead
  for (let i = 0; i < sizes.length; i++) {
    used += sizes[i] + (i > 0 ? 1 : 0)
    if (used > MAX_OUTPUT_BYTES) return i
  }
  return sizes.length
}

/** Names one per line, as many whole lines as fit in MAX_OUTPUT_BYTES. */
function nameList(names: string[]): { text: string; cut: boolean } {
  const kept = howManyFit(
    names.map((n) => Buffer.byteLength(n)),
    0,
  )
  return { text: names.slice(0, kept).join('\n'), cut: kept < names.length }
}

export interface Outputs {
  values: Record<'results' | 'succeeded' | 'failed' | 'succeeded-count' | 'failed-count' | 'results-file', string>
  trim: Omit<OutputTrim, 'resultsFile'>
  /** Every host's full entry, for the results file. */
  fullJson: string
}

/** Every output's value, each at most MAX_OUTPUT_BYTES whatever the host names. */
export function buildOutputs(results: HostResult[], secrets: readonly string[] = []): Outputs {
  const { json, tailLines, errorsShortened, droppedFields, hostsLeftOut } = resultsJson(results, secrets)
  const succeeded = results.filter((r) => r.status === 'success').map((r) => r.target.label)
  const failed = results.filter((r) => isFailure(r.status)).map((r) => r.target.label)
  const succeededList = nameList(succeeded)
  const failedList = nameList(failed)
  return {
    values: {
      results: json,
      succeeded: succeededList.text,
      failed: failedList.text,
      'succeeded-count': String(succeeded.length),
      'failed-count': String(failed.length),
      'results-file': '',
    },
    trim: {
      tailLines,
      errorsShortened,
      droppedFields,
      hostsLeftOut,
      listsCut: [...(succeededList.cut ? ['succeeded'] : []), ...(failedList.cut ? ['failed'] : [])],
    },
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
export function setOutputs(results: HostResult[], secrets: readonly string[] = []): OutputTrim {
  const { values, trim, fullJson } = buildOutputs(results, secrets)
  let resultsFile: string | null = null
  if (isTrimmed(trim)) {
    resultsFile = join(process.env.RUNNER_TEMP || tmpdir(), `ssh-fanout-results-${randomBytes(6).toString('hex')}.json`)
    writeFileSync(resultsFile, fullJson, { mode: 0o600 })
    values['results-file'] = resultsFile
  }
  for (const [name, value] of Object.entries(values)) core.setOutput(name, value)
  return { ...trim, resultsFile }
}
