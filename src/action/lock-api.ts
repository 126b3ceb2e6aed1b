/**
 * Whether a lock holder's run is still running, asked of the Actions API
 * (`GET /repos/{owner}/{repo}/actions/runs/{id}`). @actions/github is loaded with import() only
 * here, when another run holds the lock: a run without a lock, or that takes it at once, never loads it.
 */
import type { LockRecord } from '../engine/lock/lock-host.js'

/** `running`, `completed`, or `unknown` with why the API could not answer. */
export type RunState = { state: 'running' | 'completed' } | { state: 'unknown'; why: string }

/** "The API cannot answer" is any non-2xx status, a network error, or no answer within this long. */
export const API_TIMEOUT_MS = 5_000

export async function holderRunState(record: LockRecord, token: string): Promise<RunState> {
  if (token === '') return { state: 'unknown', why: 'no github-token' }
  const [owner, repo, ...more] = record.repository.split('/')
  if (!owner || !repo || more.length > 0 || !/^\d+$/.test(record.runId)) return { state: 'unknown', why: 'the record names no repository and run' }
  const { getOctokit } = await import('@actions/github')
  // getOctokit's base URL is GITHUB_API_URL when set (GitHub Enterprise, and the tests' stand-in).
  const octokit = getOctokit(token, { request: { retries: 0 } })
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}', {
      owner,
      repo,
      run_id: Number(record.runId),
      request: { signal: AbortSignal.timeout(API_TIMEOUT_MS) },
    })
    return { state: data.status === 'completed' ? 'completed' : 'running' }
  } catch (err) {
    const status = (err as { status?: number }).status
    if (typeof status === 'number' && status > 0) return { state: 'unknown', why: `the Actions API answered ${status}` }
    const e = err as Error
    return {
      state: 'unknown',
      why:
        e.name === 'TimeoutError' || /abort/i.test(e.message)
          ? `no answer from the Actions API within ${API_TIMEOUT_MS / 1000} s`
          : `the Actions API could not be reached (${e.message})`,
    }
  }
}
