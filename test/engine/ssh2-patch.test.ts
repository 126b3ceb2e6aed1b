/**
 * The patched ssh2 (patches/ssh2+1.17.0.patch) is required: src/engine/ssh/ssh2.ts refuses a copy without the
 * patch's marker, so that compiled code run straight after `npm ci` (install scripts skipped) fails loudly
 * instead of quietly ignoring the short login's options. Shown with node run against copies of ssh2.
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { ROOT } from '../helpers/action.js'

const execFileP = promisify(execFile)
const ENTRY = fileURLToPath(new URL('../../src/engine/ssh/ssh2.js', import.meta.url))
const PATCH = join(ROOT, 'patches/ssh2+1.17.0.patch')

/** A directory with src/engine/ssh/ssh2.js and its own node_modules/ssh2 (its dependencies found through NODE_PATH). */
function sandbox(patched: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), `ssh-fanout-ssh2-${patched ? 'patched' : 'plain'}-`))
  cpSync(join(ROOT, 'node_modules/ssh2'), join(dir, 'node_modules/ssh2'), { recursive: true })
  if (!patched) execFileSync('patch', ['-R', '-p1', '-s', '-i', PATCH], { cwd: dir })
  cpSync(ENTRY, join(dir, 'ssh2.js'))
  return dir
}

/** Loads the entry in a fresh node; resolves with its exit code and stderr. */
async function load(dir: string): Promise<{ code: number; stderr: string }> {
  const env = { ...process.env, NODE_PATH: join(ROOT, 'node_modules') }
  const script = `import(${JSON.stringify(join(dir, 'ssh2.js'))}).then((m) => console.log(typeof m.Client))`
  try {
    const { stdout, stderr } = await execFileP(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env })
    assert.equal(stdout.trim(), 'function')
    return { code: 0, stderr }
  } catch (err) {
    const e = err as { code?: number; stderr?: string }
    return { code: e.code ?? -1, stderr: e.stderr ?? String(err) }
  }
}

describe('the ssh2 patch', () => {
  const dirs: string[] = []
  before(() => {
    dirs.push(sandbox(true), sandbox(false))
  })
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('the ssh2 this suite runs against carries it', async () => {
    const { Client } = await import('../../src/engine/ssh/ssh2.js')
    assert.equal((Client as unknown as { sshFanoutPatched?: unknown }).sshFanoutPatched, true)
  })

  it('loads with the patched copy', async () => {
    const { code, stderr } = await load(dirs[0])
    assert.equal(code, 0, stderr)
  })

  it('every package.json script that builds or runs code applies it first', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    const builds = Object.entries(scripts).filter(([, cmd]) => /\b(tsc|node|ncc)\b/.test(cmd))
    assert.ok(builds.length >= 6, Object.keys(scripts).join(', '))
    // scripts/apply-patches.mjs runs patch-package --error-on-fail: a patch that stops applying fails the script
    const apply = /(^|; |&& )node scripts\/apply-patches\.mjs && /
    for (const [name, cmd] of builds) {
      const patchAt = cmd.search(apply)
      const firstOther = cmd.replace(apply, (m) => ' '.repeat(m.length)).search(/\b(tsc|node|ncc)\b/)
      assert.ok(patchAt !== -1 && patchAt < firstOther, `${name}: ${cmd}`)
    }
  })

  it('refuses plain ssh2, naming the patch and the fix', async () => {
    const { code, stderr } = await load(dirs[1])
    assert.notEqual(code, 0)
    assert.match(stderr, /ssh2 is loaded without patches\/ssh2\+1\.17\.0\.patch .*: run `npx patch-package` after `npm ci`/)
  })
})
