/**
 * One timed run of each contender against a bench fleet, each in a fresh process:
 * the built action (node24 dist/index.js, as the runner runs it), the floor (node24 floor.js),
 * and parallel-ssh when installed. Peak RSS and CPU come from /usr/bin/time -v when present
 * (Debian package `time`), else from /proc polled every 20 ms.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { node24, ROOT, runAction } from '../../test/helpers/action.js'
import type { Contender, Shape } from './args.js'
import type { BenchFleet } from './fleet.js'
import { roundTrips, roundTripsByTime } from '../../test/helpers/latency-proxy.js'
import type { FloorConfig, FloorResult } from './floor.js'

export const TIME_V = '/usr/bin/time'
export const PSSH = '/usr/bin/parallel-ssh'

export interface RunFigures {
  wallMs: number
  ok: number
  failed: number
  /** peak RSS in KiB (of the process tree /usr/bin/time waited for) */
  rssKb: number
  /** user + system CPU seconds */
  cpuS: number
  /** ms from spawn to the first connection the proxies accepted */
  startToConnectMs: number
  /** bytes of GITHUB_STEP_SUMMARY (action only) */
  summaryBytes?: number
  /** bytes of the largest output (action: step output; floor/pssh: one host's command output) */
  largestOutput: number
  note?: string
  /** median over connections of roundTrips() and roundTripsByTime() */
  roundTrips: number
  roundTripsByTime: number
}

export const haveTimeV = (): boolean => existsSync(TIME_V)
export const havePssh = (): boolean => existsSync(PSSH)

/** Usage of a process: from /usr/bin/time -v's report on stderr, else from polling /proc. */
interface Usage {
  rssKb: number
  cpuS: number
}

export function parseTimeV(stderr: string): Usage | null {
  const num = (re: RegExp) => Number(re.exec(stderr)?.[1] ?? NaN)
  const rssKb = num(/Maximum resident set size \(kbytes\): (\d+)/)
  if (Number.isNaN(rssKb)) return null
  return { rssKb, cpuS: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/) }
}

/** Polls VmHWM and utime+stime of `pid` until stopped (used without /usr/bin/time). */
function pollProc(pid: number): () => Usage {
  const usage: Usage = { rssKb: 0, cpuS: 0 }
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      usage.rssKb = Math.max(usage.rssKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0))
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      usage.cpuS = (Number(f[11]) + Number(f[12])) / 100 // utime, stime in clock ticks (USER_HZ 100)
    } catch {
      clearInterval(timer)
    }
  }
  const timer = setInterval(sample, 20)
  return () => {
    clearInterval(timer)
    return usage
  }
}

/**
 * BENCH_PIN=CPUS runs each contender on those CPUs (taskset), e.g. `BENCH_PIN=0 taskset -c 1 npm run bench ...`
 * keeps the fleet off the contender's core, so that a CPU profile's self time is CPU time, not time preempted.
 */
const pin = (): string[] => (process.env.BENCH_PIN ? ['taskset', '-c', process.env.BENCH_PIN] : [])

export const wrapper = (): string[] => [...pin(), ...(haveTimeV() ? [TIME_V, '-v'] : [])]

interface Spawned {
  code: number | null
  stdout: string
  stderr: string
  wallMs: number
  spawnedAt: number
  usage: Usage
}

/** Runs a command under /usr/bin/time -v (or /proc polling) and times it from spawn to exit. */
export async function timedSpawn(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Spawned> {
  const [bin, ...rest] = [...wrapper(), cmd, ...args]
  const spawnedAt = Date.now()
  const child = spawn(bin, rest, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const stop = haveTimeV() ? null : pollProc(child.pid!)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t))
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const wallMs = Date.now() - spawnedAt
  const usage = stop ? stop() : (parseTimeV(stderr) ?? { rssKb: NaN, cpuS: NaN })
  return { code, stdout, stderr, wallMs, spawnedAt, usage }
}

function firstConnect(fleet: BenchFleet, spawnedAt: number): number {
  const first = Math.min(...fleet.proxies.connections.map((c) => c.acceptedAt))
  return Number.isFinite(first) ? first - spawnedAt : NaN
}

/**
 * Linux refuses to exec with one environment string over 128 KiB (MAX_ARG_STRLEN: spawn fails
 * with E2BIG), and the runner passes every input as one INPUT_* variable; so do we.
 */
export const MAX_ENV_STRING = 128 * 1024

/** Per-host known_hosts lines when they fit one environment variable, else one `*` line per sshd key. */
export function actionKnownHosts(fleet: BenchFleet): { text: string; note?: string } {
  if (Buffer.byteLength(fleet.knownHosts) + 32 < MAX_ENV_STRING) return { text: fleet.knownHosts }
  const kib = (Buffer.byteLength(fleet.knownHosts) / 1024).toFixed(0)
  return {
    text: fleet.knownHostsAnyHost,
    note: `known-hosts: ${kib} KiB of per-host lines exceed the 128 KiB limit of one environment variable (E2BIG); used one '*' line per sshd key`,
  }
}

function nodeOptions(extra: string): Record<string, string> {
  const options = [process.env.NODE_OPTIONS ?? '', extra].filter((o) => o !== '').join(' ')
  return options === '' ? {} : { NODE_OPTIONS: options }
}

async function runActionOnce(fleet: BenchFleet, shape: Shape, cpuProf: string | null): Promise<Omit<RunFigures, 'roundTrips' | 'roundTripsByTime'>> {
  let spawnedAt = 0
  const knownHosts = actionKnownHosts(fleet)
  const run = await runAction(
    {
      hosts: fleet.hosts.map((h) => `${h.host}:${h.port}`).join('\n'),
      username: fleet.username,
      'private-key': fleet.clientKey,
      passphrase: fleet.passphrase,
      'known-hosts': knownHosts.text,
      command: shape.command,
      concurrency: String(shape.concurrency),
    },
    {
      wrapper: wrapper(),
      timeoutMs: 1_800_000,
      // NODE_OPTIONS from the bench's environment reaches the action (and the floor), as a step's `env:` reaches it on the runner.
      env: nodeOptions(cpuProf ? `--cpu-prof --cpu-prof-dir=${join(cpuProf, 'action')}` : ''),
      onSpawn: () => (spawnedAt = Date.now()),
    },
  )
  const usage = parseTimeV(run.stderr) ?? { rssKb: NaN, cpuS: NaN }
  const ok = Number(run.outputs['succeeded-count'] ?? 0)
  const largestOutput = Math.max(0, ...Object.values(run.outputs).map((v) => Buffer.byteLength(v)))
  const note =
    run.code === 0
      ? undefined
      : `exit ${run.code}: ${
          run.stdout
            .split('\n')
            .filter((l) => l.startsWith('::error'))
            .slice(0, 3)
            .join(' | ') || run.stderr.slice(0, 300)
        }`
  return {
    wallMs: run.durationMs,
    ok,
    failed: shape.hosts - ok,
    rssKb: usage.rssKb,
    cpuS: usage.cpuS,
    startToConnectMs: firstConnect(fleet, spawnedAt),
    summaryBytes: Buffer.byteLength(run.summary),
    largestOutput,
    note,
  }
}

async function runFloorOnce(fleet: BenchFleet, shape: Shape, cpuProf: string | null): Promise<Omit<RunFigures, 'roundTrips' | 'roundTripsByTime'>> {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-floor-'))
  try {
    const cfg: FloorConfig = {
      hosts: fleet.hosts,
      username: fleet.username,
      privateKey: fleet.clientKey,
      ...(fleet.passphrase ? { passphrase: fleet.passphrase } : {}),
      command: shape.command,
      concurrency: shape.concurrency,
    }
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg))
    const prof = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(cpuProf, 'floor')}`] : []
    const run = await timedSpawn(node24(), [...prof, join(ROOT, 'build/scripts/bench/floor.js'), join(dir, 'config.json')])
    const line = run.stdout.trim().split('\n').pop() ?? ''
    if (run.code !== 0 || !line.startsWith('{')) throw new Error(`floor failed (exit ${run.code}): ${run.stderr.slice(-500)}`)
    const result = JSON.parse(line) as FloorResult
    return {
      wallMs: run.wallMs,
      ok: result.ok,
      failed: result.failed,
      rssKb: run.usage.rssKb,
      cpuS: run.usage.cpuS,
      startToConnectMs: firstConnect(fleet, run.spawnedAt),
      largestOutput: result.largestOutput,
      note: result.errors.length > 0 ? result.errors.join(' | ') : undefined,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** parallel-ssh with OpenSSH's client, strict host key checking against the same known_hosts lines. */
async function runPsshOnce(fleet: BenchFleet, shape: Shape): Promise<Omit<RunFigures, 'roundTrips' | 'roundTripsByTime'>> {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-pssh-'))
  try {
    writeFileSync(join(dir, 'hosts'), fleet.hosts.map((h) => `${h.host}:${h.port}`).join('\n') + '\n')
    writeFileSync(join(dir, 'known_hosts'), fleet.knownHosts + '\n')
    writeFileSync(join(dir, 'key'), fleet.clientKey, { mode: 0o600 })
    const sshOpts = [
      `-i ${join(dir, 'key')}`,
      `-o UserKnownHostsFile=${join(dir, 'known_hosts')}`,
      '-o GlobalKnownHostsFile=/dev/null',
      '-o StrictHostKeyChecking=yes',
      '-o BatchMode=yes',
      '-o IdentitiesOnly=yes',
      '-F /dev/null',
    ].join(' ')
    const out = join(dir, 'out')
    const args = ['-h', join(dir, 'hosts'), '-l', fleet.username, '-p', String(shape.concurrency), '-t', '0', '-o', out, '-x', sshOpts, shape.command]
    const run = await timedSpawn(PSSH, args)
    const ok = (run.stdout.match(/\[SUCCESS\]/g) ?? []).length
    const sizes = existsSync(out) ? readdirSync(out).map((f) => statSync(join(out, f)).size) : []
    return {
      wallMs: run.wallMs,
      ok,
      failed: shape.hosts - ok,
      rssKb: run.usage.rssKb,
      cpuS: run.usage.cpuS,
      startToConnectMs: firstConnect(fleet, run.spawnedAt),
      largestOutput: Math.max(0, ...sizes),
      note: ok < shape.hosts ? (run.stdout.split('\n').find((l) => l.includes('[FAILURE]')) ?? run.stderr.slice(0, 300)) : undefined,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Why a contender cannot run in this shape here, or null when it can. */
export function unavailable(c: Contender, shape: Shape): string | null {
  if (c === 'pssh' && !havePssh()) return `not installed (${PSSH}, Debian package pssh)`
  if (c === 'pssh' && shape.key === 'encrypted') return 'n/a (an encrypted key needs ssh-agent for pssh)'
  return null
}

export async function runOnce(c: Contender, fleet: BenchFleet, shape: Shape, cpuProf: string | null): Promise<RunFigures> {
  fleet.proxies.reset()
  const run = c === 'action' ? runActionOnce : c === 'floor' ? runFloorOnce : runPsshOnce
  const figures = await run(fleet, shape, cpuProf)
  const conns = fleet.proxies.connections
  return { ...figures, roundTrips: median(conns.map(roundTrips)), roundTripsByTime: median(conns.map((conn) => roundTripsByTime(conn, shape.rttMs))) }
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
