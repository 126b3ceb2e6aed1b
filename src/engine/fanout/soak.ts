/**
 * The soak check: at the end of batch-pause, check-command runs once more (one attempt, over a
 * new connection, within check-timeout) on every host of the batch just finished that
 * succeeded. A host that fails it becomes `unhealthy`; the threshold then decides as ever.
 */
import pMap from 'p-map'
import type { HostResult } from '../model.js'
import { runHost, type HostRunContext } from './attempts.js'
import type { Ledger } from './ledger.js'
import type { CheckSettings, FanoutOptions } from './types.js'

export async function soakCheck(opts: FanoutOptions, check: CheckSettings, ledger: Ledger, ctx: HostRunContext, batch: number, batches: number): Promise<void> {
  const hosts = ledger.results.flatMap((r, index) => (r && r.batch === batch && r.status === 'success' ? [index] : []))
  if (hosts.length === 0) return
  const session: HostRunContext['session'] = { ...ctx.session, command: check.command, commandTimeoutMs: check.timeoutMs, prepare: undefined, check: undefined }
  opts.reporter.soakStarted?.(batch, batches, hosts.length)
  await pMap(
    hosts,
    async (index) => {
      if (opts.signal?.aborted) return
      const before = ledger.results[index]!
      const spool = opts.spoolDir.spool(opts.maxOutputBytes)
      const { result } = await runHost(before.target, spool, { ...ctx, session })
      // Cancelled mid-check: the host keeps the result it had.
      if (opts.signal?.aborted && result.status !== 'success') return void (await spool.dispose())
      const passed = result.status === 'success'
      const line = `soak check: ${passed ? 'exit 0' : describe(result)}`
      const check = {
        ...(before.check ?? { attempts: 0, planned: 0, exitCode: null, durationMs: 0, log: [] }),
        soak: passed ? ('ok' as const) : ('failed' as const),
      }
      check.log = [...check.log, line]
      if (passed) {
        ledger.revise(index, { ...before, check })
        return void (await spool.dispose())
      }
      const unhealthy: HostResult = {
        ...before,
        status: 'unhealthy',
        exitCode: result.exitCode,
        signal: result.signal,
        error: `the soak check at the end of batch-pause failed (${describe(result)})`,
        errorKind: null,
        tail: result.tail,
        check: { ...check, exitCode: result.exitCode },
      }
      ledger.revise(index, unhealthy)
      await ledger.reportAgain(() => opts.reporter.soakFailed?.(unhealthy, spool), spool)
    },
    { concurrency: opts.concurrency },
  )
}

function describe(r: Omit<HostResult, 'batch'>): string {
  if (r.status === 'failed') return r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`
  return r.error ?? r.status
}
