import * as core from '@actions/core'
import { fanout, type FanoutResult } from '../engine/fanout.js'
import { SpoolDir } from '../engine/output.js'
import { formatSeconds } from '../engine/session.js'
import { hostKeyPolicy } from '../engine/trust.js'
import { getSettings, secretValues, type InputReader, type Settings } from './inputs.js'
import { setOutputs } from './outputs.js'
import { ActionReporter, annotateFailures, inert, verdict, writeOut, writeSummary } from './report.js'

/** Runs the action. Returns true when the step succeeds. Throws InputError for bad inputs, before any host is contacted. */
export async function run(read: InputReader): Promise<boolean> {
  const secrets = secretValues(read)
  for (const secret of secrets) core.setSecret(secret)
  const settings = getSettings(read)
  // One annotation for all of them: GitHub shows at most 10 warnings per step.
  const khWarnings = settings.knownHosts?.warnings ?? []
  if (khWarnings.length > 0) core.warning(inert(`known-hosts: ${khWarnings.join('; ')}`))

  const reporter = new ActionReporter({ showHostKeys: !settings.strictHostKeyChecking })
  const cancel = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancel.signal.aborted) return
    reporter.note(`ssh-fanout: received ${signal}: the job is being cancelled; stopping every running command on its host`)
    cancel.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const spoolDir = new SpoolDir(process.env.RUNNER_TEMP || undefined, secrets)
  reporter.note(startLine(settings))
  let result: FanoutResult
  try {
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
      session: {
        command: settings.remoteCommand,
        credentials: settings.credentials,
        hostKeys: hostKeyPolicy({ strict: settings.strictHostKeyChecking, knownHosts: settings.knownHosts, fingerprints: settings.fingerprints }),
        connectTimeoutMs: settings.connectTimeoutMs,
        commandTimeoutMs: settings.commandTimeoutMs,
      },
    })
  } finally {
    spoolDir.remove()
  }
  await reporter.idle()
  return finish(result, settings, secrets)
}

function startLine(s: Settings): string {
  const timeout = s.commandTimeoutMs > 0 ? formatSeconds(s.commandTimeoutMs) : 'none'
  return `ssh-fanout: running on ${s.targets.length} hosts, ${Math.min(s.concurrency, s.targets.length)} at a time (command-timeout ${timeout}, fail-fast ${s.failFast ? 'on' : 'off'})`
}

async function finish(result: FanoutResult, settings: Settings, secrets: string[]): Promise<boolean> {
  if (!settings.strictHostKeyChecking) await printHostKeys(result)
  const v = verdict(result, settings.maxFailures)
  const trimmed = setOutputs(result.results, secrets)
  if (trimmed.hostsLeftOut > 0 || trimmed.listsCut.length > 0) {
    core.warning(inert(`Some outputs name only the hosts that fit GitHub's 1 MB output limit; every host's entry is in the file named by results-file (${trimmed.resultsFile})`))
  }
  annotateFailures(result, v.failed)
  await writeSummary(result, v, { ...trimmed, hostKeysShown: !settings.strictHostKeyChecking, secrets })
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
  for (const r of seen) await writeOut(`${inert(`${r.target.label} ${r.hostKey!.fingerprint}`)}\n`)
}
