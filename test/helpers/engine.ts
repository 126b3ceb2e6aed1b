/** Runs the engine (fanout + session) in-process with a reporter that records every host's log. */
import { fanout, type FanoutOptions, type Reporter } from '../../src/engine/fanout/fanout.js'
import { parseKnownHosts } from '../../src/engine/trust/known-hosts.js'
import { SpoolDir, type OutputSpool } from '../../src/engine/output/spool.js'
import type { HostResult, HostTarget } from '../../src/engine/model.js'
import type { HostKeyPolicy } from '../../src/engine/model.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { OutputSpool as Spool } from '../../src/engine/output/spool.js'
import { runSession, type SessionOptions, type SessionOutcome } from '../../src/engine/host/session.js'

export function target(host: string, port: number, username = 'deploy'): HostTarget {
  return { host, port, username, label: port === 22 ? host : `${host}:${port}` }
}

export class RecordingReporter implements Reporter {
  finished: Array<{ result: HostResult; log: string }> = []
  retries: Array<{ label: string; attempt: number; delayMs: number }> = []
  progressCalls = 0
  /** `batch N/M: K hosts` and `pause before N/M` lines, in order. */
  rollout: string[] = []
  /** A skipped host has no output spool: its log is empty. */
  async hostFinished(result: HostResult, output: OutputSpool | null): Promise<void> {
    const parts: Buffer[] = []
    if (output) for await (const c of output.chunks()) parts.push(c)
    this.finished.push({ result, log: Buffer.concat(parts).toString() })
  }
  progress(): void {
    this.progressCalls += 1
  }
  retrying(t: HostTarget, _o: unknown, attempt: number, delayMs: number): void {
    this.retries.push({ label: t.label, attempt, delayMs })
  }
  batchStarted(batch: number, batches: number, hosts: number): void {
    this.rollout.push(`batch ${batch}/${batches}: ${hosts} hosts`)
    this.onRollout?.()
  }
  pausing(nextBatch: number, batches: number): void {
    this.rollout.push(`pause before ${nextBatch}/${batches}`)
    this.onRollout?.()
  }
  /** Called after each rollout line (tests use it to act at a given point). */
  onRollout?: () => void
}

export type Overrides = Partial<Omit<FanoutOptions, 'session'>> & { session?: Partial<FanoutOptions['session']> }

/** fanout() with test defaults: password `pw`, host keys unchecked, no retries, concurrency 4. */
export async function runEngine(targets: HostTarget[], overrides: Overrides = {}, reporter = new RecordingReporter()) {
  const spoolDir = new SpoolDir()
  const { session, ...rest } = overrides
  try {
    const result = await fanout({
      targets,
      concurrency: 4,
      threshold: { kind: 'count', value: 0 },
      failFast: false,
      retries: 0,
      retryBaseDelayMs: 50,
      maxOutputBytes: 1 << 20,
      spoolDir,
      reporter,
      ...rest,
      session: {
        command: 'echo hi',
        credentials: { password: 'pw' },
        hostKeys: hostKeyPolicy({ strict: false, knownHosts: null, fingerprints: [] }),
        connectTimeoutMs: 5_000,
        commandTimeoutMs: 0,
        ...session,
      },
    })
    return { ...result, reporter }
  } finally {
    spoolDir.remove()
  }
}

/** Strict checking against known_hosts text only. */
export function knownHostsPolicy(knownHosts: string): HostKeyPolicy {
  return hostKeyPolicy({ strict: true, knownHosts: parseKnownHosts(knownHosts), fingerprints: [] })
}

/**
 * Runs one session with a 1 MiB spool (connect-timeout 10 s, no command-timeout unless given) and
 * collects what the host printed, as written to the spool.
 */
export async function runCapturing(
  opts: Pick<SessionOptions, 'target' | 'credentials' | 'hostKeys'> & Partial<SessionOptions>,
): Promise<{ outcome: SessionOutcome; text: string }> {
  const dir = new SpoolDir()
  const output = new Spool(dir.spool(1 << 20).path, 1 << 20)
  let text = ''
  const write = output.write.bind(output)
  output.write = (chunk: Buffer) => {
    text += chunk.toString()
    return write(chunk)
  }
  try {
    const outcome = await runSession({ command: 'true', connectTimeoutMs: 10_000, commandTimeoutMs: 0, output, ...opts })
    return { outcome, text }
  } finally {
    await output.dispose()
    dir.remove()
  }
}
