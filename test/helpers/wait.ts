/**
 * Waiting for events, never for time: a test waits for what it needs to happen; a timeout here is
 * only the bound after which a test that would otherwise hang fails, never a wait a passing test spends.
 */
import { on } from 'node:events'
import { watch } from 'node:fs'

/** Failure bound for waits on loopback events: far past anything a passing run needs on any machine. */
export const FAIL_AFTER_MS = 60_000

/**
 * Resolves true as soon as `check` passes, checking it now and after every change fs.watch reports in
 * `dir` (entries created, written, renamed or removed there); false if it still fails after `timeoutMs`.
 */
export async function whenDirSettles(dir: string, check: () => Promise<boolean> | boolean, timeoutMs = FAIL_AFTER_MS): Promise<boolean> {
  const watcher = watch(dir)
  const changes = on(watcher, 'change', { close: ['close'] })
  const timer = setTimeout(() => watcher.close(), timeoutMs)
  try {
    if (await check()) return true
    for await (const _ of changes) if (await check()) return true
    return await check()
  } finally {
    clearTimeout(timer)
    watcher.close()
  }
}

/** `promise`, or a rejection naming `what` once `timeoutMs` passed without it settling. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = FAIL_AFTER_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs)))
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}
