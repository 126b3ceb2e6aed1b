import * as core from '@actions/core'
import { fanout, type FanoutResult } from '../engine/fanout/fanout.js'
import { SpoolDir } from '../engine/output/spool.js'
import { describeShard, planBatches } from '../engine/targets/rollout.js'
import { hostLabel } from '../engine/targets/hosts.js'
import { Bastions } from './bastions.js'
import { preparer } from '../engine/prepare/prepare.js'
import { hostKeyPolicy } from '../engine/trust/policy.js'
import { countHosts, formatSeconds } from '../engine/format.js'
import { loadSettings, InputError, secretValues, type InputReader, type Settings } from './inputs.js'
import { LogDir } from './results/log-dir.js'
import type { PackedUpload } from './upload/upload-files.js'
import { tmpdir } from 'node:os'
import { fullResultsJson, setOutputs } from './results/outputs.js'
import { ActionReporter, formatBytes, writeOut } from './log/report.js'
import { inert } from './log/remote-text.js'
import { annotateFailures, verdict } from './results/verdict.js'
import { writeSummary } from './results/summary.js'
import { runRecord, type RunFacts } from './results/run-json.js'
import { readReportInputs } from './report-inputs.js'
import { takeLock } from './lock.js'
import { plannedAttempts } from '../engine/host/check.js'

/** Runs the action. Returns true when the step succeeds. Throws InputError for bad inputs, before any host is contacted. */
export async function run(read: InputReader): Promise<boolean> {
  const startedAt = new Date()
  const secrets = secretValues(read)
  for (const secret of secrets) core.setSecret(secret)
  // report-from merges earlier jobs' log-dir files and contacts no host (report/report.ts).
  const report = readReportInputs(read)
  if (report) return (await import('./report/report.js')).runReport(report, secrets)
  const settings = await loadSettings(read)
  // Keys and passwords the inventory names, read from the environment: masked before anything else is printed.
  for (const secret of settings.inventorySecrets) core.setSecret(secret)
  secrets.push(...settings.inventorySecrets)
  if (settings.inventoryWarning) core.warning(inert(settings.inventoryWarning))
  // One annotation for all of them: GitHub shows at most 10 warnings per step.
  const khWarnings = settings.knownHosts?.warnings ?? []
  if (khWarnings.length > 0) core.warning(inert(`known-hosts: ${khWarnings.join('; ')}`))

  const logDir = settings.logDir ? new LogDir(settings.logDir, secrets) : null
  try {
    logDir?.create()
  } catch (err) {
    throw new InputError('log-dir', (err as Error).message)
  }
  logDir?.nameFiles(settings.targets)
  const packed = settings.upload ? await packUpload(settings) : null
  const reporter = new ActionReporter({ showHostKeys: !settings.strictHostKeyChecking, logDir })
  const cancel = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancel.signal.aborted) return
    reporter.note(`ssh-fanout: received ${signal}: the job is being cancelled; stopping every running command on its host`)
    cancel.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const spoolDir = new SpoolDir(process.env.RUNNER_TEMP || undefined, secrets)
  const hostKeys = hostKeyPolicy({ strict: settings.strictHostKeyChecking, knownHosts: settings.knownHosts, fingerprints: settings.fingerprints })
  const bastions = new Bastions(settings, hostKeys, (line) => reporter.note(line))
  const batches = planRollout(settings)
  reporter.note(startLine(settings, batches))
  if (packed) {
    const files = `${packed.files} ${packed.files === 1 ? 'file' : 'files'}`
    reporter.note(
      `ssh-fanout: upload: ${files} (${packed.entries} entries, ${formatBytes(packed.bytes)} packed) go to ${settings.upload!.remoteDir} on every host before its command`,
    )
  }
  let result: FanoutResult
  try {
    // Before any host runs anything (preflight included); a step that does not get the lock changes no host.
    const locked = !settings.lock || (await takeLock({ settings, bastions, hostKeys, signal: cancel.signal, note: (l) => reporter.note(l) }))
    if (!locked) {
      await reporter.idle()
      return false
    }
    result = await fanout({
      targets: settings.targets,
      concurrency: settings.concurrency,
      threshold: settings.maxFailures,
      failFast: settings.failFast,
      retries: settings.retries,
      maxOutputBytes: settings.maxOutputBytes,
      spoolDir,
      signal: cancel.signal,
      reporter,
      batches,
      batchPauseMs: settings.batchPauseMs,
      transportFor: (target) => bastions.transportFor(target),
      env: settings.env,
      preflight: settings.safety.preflight ?? undefined,
      check: settings.safety.check ?? undefined,
      rollback: settings.safety.rollback ?? undefined,
      session: {
        command: settings.command,
        prepare:
          settings.script || packed
            ? preparer({
                envPrefix: settings.envPrefix,
                command: settings.command,
                script: settings.script ?? undefined,
                upload: packed ? { archivePath: packed.archivePath, bytes: packed.bytes, remoteDir: settings.upload!.remoteDir } : undefined,
              })
            : undefined,
        credentials: settings.credentials,
        hostKeys,
        connectTimeoutMs: settings.connectTimeoutMs,
        commandTimeoutMs: settings.commandTimeoutMs,
      },
    })
  } finally {
    packed?.dispose()
    bastions.close()
    spoolDir.remove()
  }
  await reporter.idle()
  bastions.annotateUnavailable(result)
  if (logDir) writeLogDir(logDir, result, secrets, (line) => reporter.note(line), runFacts(settings, startedAt))
  await reporter.idle()
  return finish(result, settings, secrets)
}

/** results.json beside the host logs, and one line saying where they are (or what could not be written). */
function writeLogDir(logDir: LogDir, result: FanoutResult, secrets: string[], note: (line: string) => void, facts: RunFacts): void {
  logDir.writeResults(fullResultsJson(result.results, secrets))
  logDir.writeRun(`${JSON.stringify(runRecord(result.results, facts), null, 2)}\n`)
  const written = result.results.length + 2 - logDir.failures.length
  note(`ssh-fanout: log-dir: ${written} files (a log per host, results.json and run.json) written to ${logDir.path}`)
  if (logDir.failures.length > 0) {
    const shown = logDir.failures.slice(0, 5).join('; ')
    core.warning(inert(`log-dir: ${logDir.failures.length} files could not be written: ${shown}${logDir.failures.length > 5 ? '; …' : ''}`))
  }
}

function runFacts(s: Settings, startedAt: Date): RunFacts {
  const check = s.safety.check
  const checkPlanned = check ? plannedAttempts(check.intervalMs, check.timeoutMs) : null
  return { shard: s.shard, totalHosts: s.totalHosts, inventory: s.select !== null, checkPlanned, startedAt, endedAt: new Date() }
}

/** Matches and packs the upload patterns once, before any host is contacted; a pattern problem is an input error. */
async function packUpload(settings: Settings): Promise<PackedUpload> {
  // Loaded only when there is something to upload: @actions/glob (minimatch) and tar-stream, which start-up need not compile.
  const { packUploads, UploadInputError } = await import('./upload/upload-files.js')
  try {
    return await packUploads(settings.upload!.patterns, settings.workspace, process.env.RUNNER_TEMP || tmpdir())
  } catch (err) {
    if (err instanceof UploadInputError) throw new InputError('upload', err.message)
    throw err
  }
}

/** Batch sizes in host order: batch-size over the hosts, or within each group with batch-by: group; undefined: one pool. */
function planRollout(s: Settings): number[] | undefined {
  if (!s.batchGroups) return s.batchSize ? planBatches(s.batchSize, s.targets.length) : undefined
  const sizes: number[] = []
  for (let i = 0; i < s.batchGroups.length;) {
    let n = 0
    while (i + n < s.batchGroups.length && s.batchGroups[i + n] === s.batchGroups[i]) n += 1
    sizes.push(...(s.batchSize ? planBatches(s.batchSize, n) : [n]))
    i += n
  }
  return sizes.length > 0 ? sizes : undefined
}

/** The log's first line: hosts (and which shard of how many), concurrency, batches, bastion, limits. */
function startLine(s: Settings, batches: number[] | undefined): string {
  const timeout = s.commandTimeoutMs > 0 ? formatSeconds(s.commandTimeoutMs) : 'none'
  const shard = s.shard ? ` (${describeShard(s.shard, s.totalHosts)})` : ''
  const rollout = batches
    ? `, in ${batches.length} batches of ${batches.join(', ')}${s.batchPauseMs > 0 ? ` with ${formatSeconds(s.batchPauseMs)} between them` : ''}`
    : ''
  const bastions = [...s.bastions.values()].map((b) => b.label)
  const via = s.jumpHost
    ? `, through jump host ${[s.jumpHost.label, ...bastions].join(', ')}`
    : bastions.length > 0
      ? `, through jump host ${bastions.join(', ')}`
      : ''
  const from = s.select !== null ? ` from the inventory (select ${s.select}${s.batchGroups ? ', batches by group' : ''})` : ''
  const empty = emptyShard(s)
  if (empty) return `ssh-fanout: ${empty}: nothing to run`
  return `ssh-fanout: running on ${countHosts(s.targets.length)}${from}${shard}, ${Math.min(s.concurrency, s.targets.length)} at a time${rollout}${via} (command-timeout ${timeout}, fail-fast ${s.failFast ? 'on' : 'off'})`
}

/** `shard 6/8 has no hosts (the list has 5)` when this job's shard is empty (more shards than hosts), else null. */
function emptyShard(s: Settings): string | null {
  return s.shard && s.targets.length === 0 ? `shard ${s.shard.index}/${s.shard.count} has no hosts (the list has ${s.totalHosts})` : null
}

async function finish(result: FanoutResult, settings: Settings, secrets: string[]): Promise<boolean> {
  if (!settings.strictHostKeyChecking) await printHostKeys(result)
  const v = verdict(result, settings.maxFailures, emptyShard(settings) ?? undefined)
  const trimmed = setOutputs(result.results, secrets)
  if (trimmed.hostsLeftOut > 0 || trimmed.listsCut.length > 0) {
    core.warning(
      inert(
        `Some outputs name only the hosts that fit GitHub's 1 MB output limit; every host's entry is in the file named by results-file (${trimmed.resultsFile})`,
      ),
    )
  }
  annotateFailures(result, v.failed)
  const shard = settings.shard ? describeShard(settings.shard, settings.totalHosts) : undefined
  await writeSummary(result, v, { ...trimmed, hostKeysShown: !settings.strictHostKeyChecking, secrets, shard })
  const message = inert(v.message)
  if (v.failed) {
    core.setFailed(message)
  } else if (result.failures > 0) {
    core.warning(message)
  } else {
    core.info(message)
  }
  return !v.failed
}

/** With checking off, list every key seen in the form the fingerprints input takes, ready to pin. */
async function printHostKeys(result: FanoutResult): Promise<void> {
  const seen = result.results.filter((r) => r.hostKey)
  if (seen.length === 0) return
  core.warning('strict-host-key-checking is off: host keys were accepted without checking. Pin them with the fingerprints input (the lines below).')
  await writeOut('Host keys seen (fingerprints input format):\n')
  // A fingerprint pins a host and port, whoever logs in: one line for alice@web1 and bob@web1 alike.
  const lines = new Set(seen.map((r) => inert(`${hostLabel(r.target.host, r.target.port)} ${r.hostKey!.fingerprint}`)))
  for (const line of lines) await writeOut(`${line}\n`)
}
