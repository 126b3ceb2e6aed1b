/**
 * `npm run local-action`: GitHub's @github/local-action debugger runs src/main.ts (the TypeScript
 * source, not the bundle) against the demo fleet, as the README shows.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

function runScript(): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['build/scripts/local-action.js'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout })))
}

describe('npm run local-action', () => {
  it('runs src/main.ts under @github/local-action against the demo fleet: one group per host, outputs set, the step passes within max-failures', async () => {
    const { code, stdout } = await runScript()
    assert.equal(code, 0, stdout)
    const groups = stdout.split('\n').filter((l) => l.startsWith('::group::'))
    assert.equal(groups.length, 5, stdout)
    assert.equal(groups.filter((g) => g.includes('success')).length, 3, groups.join('\n'))
    assert.match(stdout, /::set-output name=succeeded-count::3/)
    assert.match(stdout, /::set-output name=failed-count::2/)
    assert.match(stdout, /health check failed: HTTP 503/)
  })
})
