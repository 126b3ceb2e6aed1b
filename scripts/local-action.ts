/**
 * `npm run local-action`: runs the action's TypeScript source (src/main.ts) with GitHub's
 * @github/local-action debugger against the demo fleet: starts the fleet, writes its inputs to a
 * dotenv file, runs `local-action run . src/main.ts FILE`, stops the fleet.
 *
 * `npm run local-action -- my.env` runs against the inputs in your own dotenv file instead (see
 * .env.example), with no fleet started.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { demoInputs, startDemoFleet } from './demo-fleet.js'

/** One `INPUT_<NAME>=value` line per input, as local-action's dotenv reads it (multi-line values quoted). */
export function dotenvText(inputs: Record<string, string>): string {
  return Object.entries(inputs)
    .map(([name, value]) => `INPUT_${name.toUpperCase()}=${quote(name, value)}`)
    .join('\n')
}

function quote(name: string, value: string): string {
  // dotenv keeps a quoted value as it is (newlines included) up to the same quote character.
  const q = ["'", '"', '`'].find((c) => !value.includes(c))
  if (q === undefined) throw new Error(`the value of ${name} contains every dotenv quote character (' " \`)`)
  return `${q}${value}${q}`
}

/** The project root (this file runs as build/scripts/local-action.js). */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

function localActionBin(): string {
  return join(ROOT, 'node_modules', '@github', 'local-action', 'bin', 'local-action.js')
}

function runLocalAction(envFile: string): Promise<number> {
  const child = spawn(process.execPath, [localActionBin(), 'run', '.', 'src/main.ts', envFile], { cwd: ROOT, stdio: 'inherit' })
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)))
}

async function main(): Promise<void> {
  const userEnv = process.argv[2]
  if (userEnv) {
    process.exitCode = await runLocalAction(userEnv)
    return
  }
  const fleet = await startDemoFleet()
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-local-action-'))
  try {
    const envFile = join(dir, '.env')
    writeFileSync(envFile, `${dotenvText(demoInputs(fleet))}\n`, { mode: 0o600 })
    console.log(`local-action: demo fleet of ${fleet.hosts.length} hosts (${fleet.kind}) plus ${fleet.dead}; inputs in ${envFile}`)
    process.exitCode = await runLocalAction(envFile)
  } finally {
    await fleet.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
