/**
 * Side-by-side comparison of the action, the floor and parallel-ssh on one fleet shape:
 * `rounds` interleaved rounds (the order rotates each round), medians and spreads printed.
 */
import { cpus, loadavg } from 'node:os'
import { node24 } from '../../test/helpers/action.js'
import { shapeFlags, type BenchArgs, type Contender, type Shape } from './args.js'
import { median, runOnce, timedSpawn, unavailable, haveTimeV, type RunFigures } from './contenders.js'
import { startBenchFleet } from './fleet.js'

export interface ShapeResult {
  shape: Shape
  command: string
  runs: Partial<Record<Contender, RunFigures[]>>
  /** CPU of this process (the proxies) / wall, over all runs: near 1 would mean the proxy limits the runs */
  proxyCpuShare: number
  skipped: Partial<Record<Contender, string>>
}

const MIB = 1024 * 1024

export function describe(shape: Shape): string {
  const rtt = shape.rttMs > 0 ? `, rtt ${shape.rttMs} ms` : ''
  const key = shape.key === 'encrypted' ? ', encrypted key' : ''
  return `${shape.hosts} hosts/c${shape.concurrency}${rtt}${key}`
}

const ms = (x: number) => (Number.isNaN(x) ? '?' : `${Math.round(x)} ms`)
const secs = (x: number) => (Number.isNaN(x) ? '?' : `${(x / 1000).toFixed(2)} s`)
const mb = (kb: number) => (Number.isNaN(kb) ? '?' : `${(kb / 1024).toFixed(0)} MB`)
const perHost = (cpuS: number, hosts: number) => (Number.isNaN(cpuS) ? '?' : `${((cpuS * 1000) / hosts).toFixed(1)} ms`)
const rt = (x: number) => (Number.isNaN(x) ? '?' : Number.isInteger(x) ? String(x) : x.toFixed(1))

export interface Summary {
  wall: number
  min: number
  max: number
  hostsPerS: number
  rssKb: number
  cpuPerHostMs: number
  startToConnect: number
  roundTrips: number
  roundTripsByTime: number
  allOk: boolean
  summaryBytes: number
  largestOutput: number
}

export function summarise(runs: RunFigures[], hosts: number): Summary {
  const walls = runs.map((r) => r.wallMs)
  const wall = median(walls)
  return {
    wall,
    min: Math.min(...walls),
    max: Math.max(...walls),
    hostsPerS: hosts / (wall / 1000),
    rssKb: median(runs.map((r) => r.rssKb)),
    cpuPerHostMs: (median(runs.map((r) => r.cpuS)) * 1000) / hosts,
    startToConnect: median(runs.map((r) => r.startToConnectMs)),
    roundTrips: median(runs.map((r) => r.roundTrips)),
    roundTripsByTime: median(runs.map((r) => r.roundTripsByTime)),
    allOk: runs.every((r) => r.ok === hosts),
    summaryBytes: Math.max(0, ...runs.map((r) => r.summaryBytes ?? 0)),
    largestOutput: Math.max(...runs.map((r) => r.largestOutput)),
  }
}

function printShape(result: ShapeResult, rounds: number): void {
  const { shape } = result
  const floor = result.runs.floor ? summarise(result.runs.floor, shape.hosts) : null
  console.log(`\n${describe(shape)}, command \`${shape.command}\`, ${rounds} rounds   (${result.command})`)
  const header = ['', 'median', 'min–max', 'hosts/s', '×floor', 'peak RSS', 'CPU/host', 'start→1st conn', 'round trips', 'all ok']
  const rows: string[][] = [header]
  for (const c of ['floor', 'action', 'pssh'] as Contender[]) {
    if (result.skipped[c]) {
      rows.push([c, result.skipped[c]])
      continue
    }
    const runs = result.runs[c]
    if (!runs) continue
    const s = summarise(runs, shape.hosts)
    const ratio = floor ? `${(s.wall / floor.wall).toFixed(2)}x` : '–'
    const trips = shape.rttMs > 0 ? `${rt(s.roundTrips)} (${rt(s.roundTripsByTime)} by time)` : rt(s.roundTrips)
    const okText = s.allOk ? 'yes' : `NO (${runs.map((r) => r.ok).join(',')} ok)`
    rows.push([
      c,
      secs(s.wall),
      `${secs(s.min)}–${secs(s.max)}`,
      s.hostsPerS.toFixed(0),
      ratio,
      mb(s.rssKb),
      perHost(s.cpuPerHostMs / 1000, 1),
      ms(s.startToConnect),
      trips,
      okText,
    ])
    for (const note of new Set(runs.map((r) => r.note).filter(Boolean))) console.log(`   ${c}: ${note}`)
  }
  const widths = header.map((_, i) => Math.max(...rows.filter((r) => r.length > 2).map((r) => r[i].length)))
  for (const r of rows) console.log(`   ${r.length === 2 ? `${r[0].padEnd(widths[0])}  ${r[1]}` : r.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`)
  console.log(`   proxies (the bench process) used ${(100 * result.proxyCpuShare).toFixed(0)}% of one core during the runs`)
  const action = result.runs.action ? summarise(result.runs.action, shape.hosts) : null
  if (action) {
    const sumOk = action.summaryBytes < MIB ? 'ok' : 'OVER the 1 MiB limit'
    const outOk = action.largestOutput < 1_000_000 ? 'ok' : 'OVER the 1 MB limit'
    console.log(
      `   action: job summary ${(action.summaryBytes / 1024).toFixed(1)} KiB (${sumOk}); largest step output ${(action.largestOutput / 1024).toFixed(1)} KiB (${outOk})`,
    )
  }
}

/** Runs every contender `rounds` times on one fleet, interleaved. */
export async function compareShape(shape: Shape, args: BenchArgs): Promise<ShapeResult> {
  const result: ShapeResult = { shape, command: shapeFlags(shape, args.rounds), runs: {}, proxyCpuShare: 0, skipped: {} }
  const contenders = args.only.filter((c) => {
    const why = unavailable(c, shape)
    if (why) result.skipped[c] = why
    return !why
  })
  process.stdout.write(`\nstarting fleet: ${describe(shape)} ...`)
  const fleet = await startBenchFleet(shape)
  let cpuUs = 0
  let wallMs = 0
  try {
    for (let round = 0; round < args.rounds; round++) {
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length])
      for (const c of order) {
        process.stdout.write(` ${c}`)
        const cpu = process.cpuUsage()
        const figures = await runOnce(c, fleet, shape, c === 'pssh' ? null : args.cpuProf)
        const used = process.cpuUsage(cpu)
        cpuUs += used.user + used.system
        wallMs += figures.wallMs
        ;(result.runs[c] ??= []).push(figures)
      }
    }
  } finally {
    await fleet.stop()
  }
  result.proxyCpuShare = cpuUs / 1000 / wallMs
  process.stdout.write('\n')
  printShape(result, args.rounds)
  return result
}

/** Wall time of `node -e 0` (Node 24): the cost of starting any Node process here. */
export async function nodeStartup(rounds: number): Promise<number> {
  const walls: number[] = []
  for (let i = 0; i < rounds; i++) walls.push((await timedSpawn(node24(), ['-e', '0'])).wallMs)
  return median(walls)
}

export function header(): string {
  const measure = haveTimeV() ? '/usr/bin/time -v' : '/proc polled every 20 ms (install Debian package `time` for exact figures)'
  return [
    `ssh-fanout comparison: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at start (shared machine: compare within a run, not across runs)`,
    'floor = bare ssh2 + p-map (scripts/bench/floor.ts); action = node24 dist/index.js as the runner runs it; pssh = /usr/bin/parallel-ssh',
    `all three: fresh process per round; wall from spawn to exit; peak RSS and CPU (user+sys) from ${measure}`,
    'round trips: median per connection of client flights answered by the server before the result arrived (see test/helpers/latency-proxy.ts)',
  ].join('\n')
}

export function markdownRow(result: ShapeResult): string {
  const { shape } = result
  const a = result.runs.action ? summarise(result.runs.action, shape.hosts) : null
  const f = result.runs.floor ? summarise(result.runs.floor, shape.hosts) : null
  const cell = (x: Summary | null, get: (s: Summary) => string) => (x ? get(x) : '–')
  const ratio = a && f ? `${(a.wall / f.wall).toFixed(2)}x` : '–'
  const both = (get: (s: Summary) => string) => `${cell(a, get)} / ${cell(f, get)}`
  const ok = a && !a.allOk ? ' (NOT all ok)' : ''
  return `| ${describe(shape)}${ok} | ${cell(a, (s) => secs(s.wall))} | ${cell(f, (s) => secs(s.wall))} | ${ratio} | ${both((s) => s.hostsPerS.toFixed(0))} | ${both((s) => mb(s.rssKb))} | ${both((s) => `${s.cpuPerHostMs.toFixed(1)} ms`)} | ${both((s) => rt(s.roundTrips))} | \`${result.command}\` |`
}

export const MARKDOWN_HEADER = [
  '| shape | action median | floor median | ratio | hosts/s action / floor | peak RSS action / floor | CPU/host action / floor | round trips action / floor | command |',
  '|---|---|---|---|---|---|---|---|---|',
].join('\n')
