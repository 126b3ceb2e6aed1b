/**
 * The report-from mode: reads the results.json (and run.json) files earlier jobs wrote with
 * log-dir, merges them (merge.ts) and gives one job summary, one set of outputs and one verdict
 * under max-failures, with the same code a run over hosts uses. No host is contacted.
 */
import { readFileSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative } from 'node:path'
import * as core from '@actions/core'
import * as glob from '@actions/glob'
import type { FanoutResult } from '../../engine/fanout/types.js'
import { isFailure } from '../../engine/model.js'
import { countHosts } from '../../engine/format.js'
import { thresholdExceeded } from '../../engine/parse.js'
import { InputError } from '../input-error.js'
import { inert } from '../log/remote-text.js'
import type { ReportInputs } from '../report-inputs.js'
import { setOutputs } from '../results/outputs.js'
import { writeSummary } from '../results/summary.js'
import { annotateFailures, verdict } from '../results/verdict.js'
import { mergeShards, type ShardFiles } from './merge.js'

/** Returns true when the step succeeds. Throws InputError for files that cannot be merged. `secrets`: the mask input's, masked again. */
export async function runReport(inputs: ReportInputs, secrets: readonly string[] = []): Promise<boolean> {
  const paths = await findResults(inputs)
  const files = paths.map((path) => readShard(path, inputs.workspace))
  let merged
  try {
    merged = mergeShards(files)
  } catch (err) {
    throw new InputError('report-from', `${(err as Error).message} (patterns: ${inputs.patterns.join(', ')})`)
  }
  const { results, missing, totalHosts } = merged
  const unreported = missing.reduce((n, m) => n + m.hosts, 0)
  core.info(
    inert(
      `ssh-fanout: report-from: ${files.length} results.json ${files.length === 1 ? 'file' : 'files'} for a fleet of ${countHosts(totalHosts)}: ` +
        `${countHosts(results.length)} reported${missing.length > 0 ? `, ${missing.map((m) => `shard ${m.shard}`).join(', ')} reported nothing` : ''}`,
    ),
  )
  // One annotation for all of them: GitHub shows at most 10 errors per step.
  if (missing.length > 0) {
    const names = missing.map((m) => `shard ${m.shard} reported nothing (${countHosts(m.hosts)})`).join('; ')
    core.error(`${names}: ${countHosts(unreported)} counted as failed`, {
      title: `ssh-fanout: ${missing.length} missing ${missing.length === 1 ? 'shard' : 'shards'}`,
    })
  }
  const failures = results.filter((r) => isFailure(r.status)).length + unreported
  const run: FanoutResult = {
    results,
    failures,
    thresholdExceeded: thresholdExceeded(inputs.maxFailures, failures, results.length + unreported),
    stoppedEarly: false,
    cancelled: false,
    preflight: null,
    rollback: null,
  }
  const v = verdict(run, inputs.maxFailures, undefined, missing)
  const trimmed = setOutputs(results, secrets, missing)
  annotateFailures(run, v.failed, missing.length > 0 ? 1 : 0)
  await writeSummary(run, v, { ...trimmed, hostKeysShown: false, secrets, missing })
  const message = inert(v.message)
  if (v.failed) core.setFailed(message)
  else if (failures > 0) core.warning(message)
  else core.info(message)
  return !v.failed
}

/** Every results.json the patterns match, in path order (so a run's verdict never depends on the file system's order). */
async function findResults(inputs: ReportInputs): Promise<string[]> {
  if (inputs.patterns.length === 0)
    throw new InputError('report-from', 'has no pattern; give globs of results.json files, one per line, e.g. shards/*/results.json')
  const lines = inputs.patterns.map((p) => {
    const negate = p.startsWith('!')
    const rest = negate ? p.slice(1).trim() : p
    return `${negate ? '!' : ''}${isAbsolute(rest) ? rest : `${globEscape(inputs.workspace)}/${rest}`}`
  })
  const globber = await glob.create(lines.join('\n'), { matchDirectories: false, implicitDescendants: true, followSymbolicLinks: true })
  const found = (await globber.glob()).filter((p) => basename(p) === 'results.json').sort()
  if (found.length === 0) {
    throw new InputError(
      'report-from',
      `matched no results.json file in ${inputs.workspace} (patterns: ${inputs.patterns.join(', ')}); give globs of the files log-dir wrote in earlier jobs, relative to the workspace, e.g. shards/*/results.json`,
    )
  }
  return found
}

/** A job's results.json and the run.json beside it, parsed; a file missing or not JSON is an input error naming it. */
function readShard(resultsPath: string, workspace: string): ShardFiles {
  const shown = (p: string) => (relative(workspace, p).startsWith('..') ? p : relative(workspace, p))
  const runPath = join(dirname(resultsPath), 'run.json')
  const parse = (path: string, what: string) => {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' && path === runPath)
        throw new InputError('report-from', `${shown(resultsPath)} has no run.json beside it (${shown(path)}); ${what}`)
      throw new InputError('report-from', `${shown(path)} cannot be read (${code ?? (err as Error).message})`)
    }
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new InputError('report-from', `${shown(path)} is not JSON (${(err as Error).message}); ${what}`)
    }
  }
  const what = 'give the files log-dir writes (results.json and run.json), downloaded as they were uploaded'
  return { resultsPath: shown(resultsPath), runPath: shown(runPath), results: parse(resultsPath, what), run: parse(runPath, what) }
}

/** @actions/glob's escaping of literal text (Pattern.globEscape), for the workspace path. */
function globEscape(s: string): string {
  return (process.platform === 'win32' ? s : s.replace(/\\/g, '\\\\'))
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]')
}
