/**
 * `npm run bench -- --startup ROUNDS [--before DIR]`: the action's start-up under Node 24, from spawn
 * to its first connection attempt, with one host that refuses (a closed loopback port, retries 0), so
 * the figure is start-up and nothing else. Interleaved rounds, the order rotating each round, of:
 *   floor  = node -e that makes the same connection attempt (bare Node's start-up);
 *   before = node24 DIR/index.js, another build's bundle (e.g. a copy of main's dist/), with --before;
 *   after  = node24 dist/index.js.
 * The moment of the attempt is taken inside each process (first-connect.ts, preloaded into every
 * contender alike), against the time of spawn. Also printed: spawn to exit, and CPU and peak RSS of the
 * whole process from /usr/bin/time -v when installed (which then wraps every contender alike).
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { actionDefaults, DIST, node24, parseOutputFile, ROOT } from '../../test/helpers/action.js'
import { closedPort } from '../../test/helpers/net.js'
import type { BenchArgs } from './args.js'
import { median, parseTimeV, wrapper } from './contenders.js'

type Contender = 'floor' | 'before' | 'after'

interface StartupRun {
  connectMs: number
  exitMs: number
  /** user + system CPU of the whole process, ms (from /usr/bin/time -v when installed, else NaN) */
  cpuMs: number
  rssKb: number
}

const now = (): number => performance.timeOrigin + performance.now()

function actionEnv(dir: string, port: number): NodeJS.ProcessEnv {
  writeFileSync(join(dir, 'output'), '')
  writeFileSync(join(dir, 'summary'), '')
  const inputs: Record<string, string> = {
    ...actionDefaults(),
    hosts: `127.0.0.1:${port}`,
    username: 'bench',
    password: 'bench-password',
    'known-hosts': `[127.0.0.1]:${port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDUAVc1vs0RpDCPzqEXTbXZzbnvMW/M45eRFPeJ5QV/0`,
    command: 'true',
    retries: '0',
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_REPOSITORY: 'octo/deploy',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: '4242',
    RUNNER_TEMP: dir,
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  return env
}

async function runOnce(args: string[], env: NodeJS.ProcessEnv): Promise<StartupRun & { code: number | null; stdout: string; stderr: string }> {
  const preload = pathToFileURL(join(ROOT, 'build/scripts/bench/first-connect.js')).href
  const [bin, ...rest] = [...wrapper(), node24(), '--import', preload, ...args]
  const spawnedAt = now()
  const child = spawn(bin, rest, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t))
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t))
  const code = await new Promise<number | null>((done) => child.on('close', done))
  const exitMs = now() - spawnedAt
  const at = Number(/^first-connect ([\d.]+)$/m.exec(stderr)?.[1] ?? NaN)
  const usage = parseTimeV(stderr) ?? { cpuS: NaN, rssKb: NaN }
  return { connectMs: at - spawnedAt, exitMs, cpuMs: usage.cpuS * 1000, rssKb: usage.rssKb, code, stdout, stderr }
}

async function runContender(c: Contender, bundle: Record<Contender, string>, port: number): Promise<StartupRun> {
  if (c === 'floor') {
    const code = `require('node:net').connect(${port}, '127.0.0.1').on('error', () => {})`
    const run = await runOnce(['-e', code], { PATH: process.env.PATH })
    if (Number.isNaN(run.connectMs)) throw new Error(`floor: no connection attempt seen: ${run.stderr.slice(-300)}`)
    return run
  }
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-startup-'))
  try {
    const run = await runOnce([bundle[c]], actionEnv(dir, port))
    const failed = parseOutputFile(readFileSync(join(dir, 'output'), 'utf8'))['failed-count']
    if (Number.isNaN(run.connectMs) || failed !== '1' || !run.stdout.includes('ECONNREFUSED')) {
      throw new Error(`${c}: expected one refused host (exit ${run.code}): ${run.stdout.slice(-500)}${run.stderr.slice(-300)}`)
    }
    return run
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const ms = (x: number): string => `${x.toFixed(1)} ms`

export async function compareStartup(args: BenchArgs): Promise<void> {
  const rounds = args.startupRounds!
  const bundle: Record<Contender, string> = { floor: '', before: args.before ? resolve(args.before, 'index.js') : '', after: DIST }
  if (args.before && !existsSync(bundle.before)) throw new Error(`--before: no index.js in ${args.before}`)
  const contenders: Contender[] = args.before ? ['floor', 'before', 'after'] : ['floor', 'after']
  const port = await closedPort()
  console.log(`\nstart-up: spawn to the first connection attempt, one refused host (127.0.0.1:${port}, retries 0), Node 24`)
  console.log(
    `${rounds} interleaved rounds (one warm-up round first, not counted); ${contenders.map((c) => `${c} = ${c === 'floor' ? 'node -e net.connect' : bundle[c]}`).join('; ')}`,
  )
  const runs: Record<Contender, StartupRun[]> = { floor: [], before: [], after: [] }
  for (let round = -1; round < rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + Math.max(round, 0)) % contenders.length])
    for (const c of order) {
      const run = await runContender(c, bundle, port)
      if (round >= 0) runs[c].push(run)
    }
  }
  const rows = contenders.map((c) => {
    const connect = runs[c].map((r) => r.connectMs).sort((a, b) => a - b)
    const q = (p: number) => connect[Math.min(connect.length - 1, Math.floor(p * connect.length))]
    const of = (get: (r: StartupRun) => number) => median(runs[c].map(get))
    return {
      c,
      connect: median(connect),
      p25: q(0.25),
      p75: q(0.75),
      min: connect[0],
      exit: of((r) => r.exitMs),
      cpu: of((r) => r.cpuMs),
      rssKb: of((r) => r.rssKb),
    }
  })
  const floor = rows[0]
  console.log('\n| | spawn → 1st connection attempt, median | p25–p75 | min | over the floor | spawn → exit, median | CPU (user+sys), median | peak RSS |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const r of rows) {
    const over = r.c === 'floor' ? '–' : ms(r.connect - floor.connect)
    const rss = Number.isNaN(r.rssKb) ? '?' : `${(r.rssKb / 1024).toFixed(0)} MB`
    console.log(
      `| ${r.c} | ${ms(r.connect)} | ${ms(r.p25)}–${ms(r.p75)} | ${ms(r.min)} | ${over} | ${ms(r.exit)} | ${Number.isNaN(r.cpu) ? '?' : ms(r.cpu)} | ${rss} |`,
    )
  }
  if (args.before) {
    const before = rows.find((r) => r.c === 'before')!
    const after = rows.find((r) => r.c === 'after')!
    console.log(
      `\nafter / before: ${(after.connect / before.connect).toFixed(3)}x (spawn to 1st connection attempt, medians); over the floor ${ms(after.connect - floor.connect)} vs ${ms(before.connect - floor.connect)}`,
    )
  }
}
