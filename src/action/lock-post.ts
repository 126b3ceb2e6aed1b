/**
 * The post step (`runs.post` in action.yml, dist/post/index.js): releases the fleet lock the main
 * step took, whether the job succeeded, failed or was cancelled. Nothing to do when the main step
 * saved no lock state (no lock input, or the lock was never taken). It never fails the job: when
 * the lock host cannot be reached it warns, naming the lock left behind and how to remove it.
 */
import * as core from '@actions/core'
import { connectLockHost } from '../engine/lock/lock-host.js'
import { hostKeyPolicy } from '../engine/trust/policy.js'
import { Bastions } from './bastions.js'
import { loadSettings, readInputFromEnv } from './inputs.js'
import { LOCK_STATE, type LockState } from './lock.js'
import { inert } from './log/remote-text.js'

export async function releaseLock(): Promise<void> {
  const saved = core.getState(LOCK_STATE)
  if (saved === '') return
  const state = readState(saved)
  if (!state) return core.warning(`ssh-fanout: the lock state saved by the main step cannot be read (${inert(saved.slice(0, 200))}); no lock was released`)
  const leftBehind = (why: string) =>
    core.warning(inert(`lock ${state.name} on ${state.host} could not be released (${why}); it stays held until removed by hand: ${state.removal}`))
  let bastions: Bastions | null = null
  try {
    // The same inputs as the main step: the lock host is reached with its credentials, host-key policy and jump host.
    const settings = await loadSettings(readInputFromEnv)
    const lock = settings.lock
    if (!lock || lock.host.label !== state.host) return leftBehind('the post step does not find the same lock-host in its inputs')
    const hostKeys = hostKeyPolicy({ strict: settings.strictHostKeyChecking, knownHosts: settings.knownHosts, fingerprints: settings.fingerprints })
    bastions = new Bastions(settings, hostKeys, (line) => core.info(inert(line)))
    const own = lock.host.inventory?.credentials
    const host = await connectLockHost({
      target: lock.host,
      credentials: own ? { ...settings.credentials, ...own } : settings.credentials,
      hostKeys,
      transport: bastions.transportFor(lock.host),
      connectTimeoutMs: settings.connectTimeoutMs,
    })
    try {
      const outcome = await host.run('release', { name: state.name, key: '', token: state.token, record: '', oldId: '' })
      if (outcome.kind === 'released') core.info(`ssh-fanout: lock ${state.name} on ${state.host} released`)
      else if (outcome.kind === 'left') core.info(`ssh-fanout: lock ${state.name} on ${state.host}: this job let go; other jobs of this run still hold it`)
      else core.info(`ssh-fanout: lock ${state.name} on ${state.host} was not held by this job any more (nothing to release)`)
    } finally {
      host.close()
    }
  } catch (err) {
    leftBehind((err as Error).message)
  } finally {
    bastions?.close()
  }
}

function readState(saved: string): LockState | null {
  try {
    const s = JSON.parse(saved) as Partial<LockState>
    return typeof s.name === 'string' && typeof s.token === 'string' && typeof s.host === 'string' && typeof s.removal === 'string' ? (s as LockState) : null
  } catch {
    return null
  }
}
