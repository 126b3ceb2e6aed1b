/**
 * Preflight: before any host runs the command, every host is connected, its host key checked,
 * logged in, and the preflight-command run when there is one, under `concurrency`. A host that
 * fails keeps that result (`preflight: ` leads its error); the key each host showed is what it
 * must show again later (trust/preflight-pin.ts).
 */
import pMap from 'p-map'
import type { HostKeyInfo, HostResult } from '../model.js'
import { runHost, type HostRunContext } from './attempts.js'
import type { Ledger } from './ledger.js'
import type { FanoutOptions, PreflightSummary } from './types.js'

export interface PreflightOutcome {
  summary: PreflightSummary
  /** The key each host that passed showed, by label. */
  keys: Map<string, HostKeyInfo>
}

export async function runPreflight(opts: FanoutOptions, ledger: Ledger, ctx: HostRunContext): Promise<PreflightOutcome> {
  const command = opts.preflight!.command
  const session: HostRunContext['session'] = { ...ctx.session, command: command ?? '', loginOnly: command === null, prepare: undefined, check: undefined }
  const started = Date.now()
  const keys = new Map<string, HostKeyInfo>()
  let passed = 0
  let failed = 0
  opts.reporter.preflightStarted?.(opts.targets.length)
  await pMap(
    opts.targets.map((target, index) => [index, target] as const),
    async ([index, target]) => {
      // Hosts not tried (cancelled, or fail-fast with the threshold already exceeded) are the caller's to record.
      if (opts.signal?.aborted || (opts.failFast && ledger.exceeded())) return
      ledger.running += 1
      const spool = opts.spoolDir.spool(opts.maxOutputBytes)
      const { result } = await runHost(target, spool, { ...ctx, session })
      ledger.running -= 1
      if (result.status === 'success' && result.hostKey) {
        keys.set(target.label, result.hostKey)
        ledger.preflight.set(index, 'ok')
        passed += 1
        await spool.dispose()
        return
      }
      failed += 1
      ledger.preflight.set(index, 'failed')
      ledger.record(index, preflightFailure(result), spool)
    },
    { concurrency: opts.concurrency },
  )
  const halted = !opts.signal?.aborted && ledger.exceeded()
  const summary = { hosts: opts.targets.length, passed, failed, durationMs: Date.now() - started, halted }
  opts.reporter.preflightFinished?.(summary)
  return { summary, keys }
}

/** A host that failed preflight: its own status, an error that starts `preflight: `; it changed nothing. */
function preflightFailure(result: Omit<HostResult, 'batch'>): Omit<HostResult, 'batch' | 'preflight'> {
  const { preflight: _, ...rest } = result
  const why =
    result.error ??
    (result.status === 'failed' ? `preflight-command ${result.signal ? `was killed by ${result.signal}` : `exited ${result.exitCode}`}` : result.status)
  return { ...rest, error: `preflight: ${why}`, changed: false, check: null }
}
