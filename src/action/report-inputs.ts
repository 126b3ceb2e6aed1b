/**
 * The `report-from` input: the results.json files of earlier jobs to merge into one report
 * (report/report.ts). With it the step contacts no host, so the inputs that say what to run
 * where are mistakes, not ignored: a step meant to deploy must not quietly only report.
 */
import { parseThreshold, type Threshold } from '../engine/parse.js'
import { InputError, type InputReader } from './input-error.js'

export interface ReportInputs {
  /** Globs as given, one per line (trimmed, blank lines and `#` comments dropped), relative to `workspace`. */
  patterns: string[]
  workspace: string
  maxFailures: Threshold
}

/** Inputs that choose hosts or what they run: none may be given with report-from. */
const RUN_INPUTS = ['hosts', 'inventory', 'command', 'script-file'] as const

/** The report-from settings, or null when report-from is empty (a run over hosts). Throws InputError. */
export function readReportInputs(read: InputReader, env: NodeJS.ProcessEnv = process.env): ReportInputs | null {
  const text = read('report-from').trim()
  if (text === '') return null
  const given = RUN_INPUTS.filter((name) => read(name).trim() !== '')
  if (given.length > 0) {
    const names = given.map((n) => `"${n}"`).join(', ')
    throw new InputError(
      'report-from',
      `cannot be used with ${names}: report-from only merges the results.json files of earlier jobs and contacts no host; ` +
        'remove report-from to run a command, or remove the others to report',
    )
  }
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  let maxFailures: Threshold
  try {
    maxFailures = parseThreshold(read('max-failures').trim() || '0')
  } catch (err) {
    throw new InputError('max-failures', (err as Error).message)
  }
  return { patterns, workspace: env.GITHUB_WORKSPACE || process.cwd(), maxFailures }
}
