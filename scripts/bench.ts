/**
 * `npm run bench`: prints speed and memory figures for the built action (dist/index.js),
 * run as the runner runs it against hosts on loopback. Figures only: nothing is asserted,
 * since shared machines are noisy. Compare ratios within one run.
 *
 * 1. Scheduling: 40 hosts whose command takes 500 ms, at concurrency 1, 10 and 40.
 * 2. Output flood: 4 hosts printing 80 MB each at once; peak RSS of the action process.
 * 3. Cancellation: SIGINT while 4 commands run; time until the process has exited.
 * 4. Real sshd: 8 hosts running `true`, wall time per run.
 * 5. Comparison with the floor (bare ssh2 + p-map) and parallel-ssh on a real-sshd fleet;
 *    with flags, only this (see scripts/bench/args.ts, `npm run bench -- --help`).
 * 6. With --upload MB, only: the action's upload against OpenSSH scp (scripts/bench/upload.ts).
 * 7. With --startup ROUNDS, only: start-up, spawn to the first connection attempt (scripts/bench/startup.ts).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { runAction } from '../test/helpers/action.js'
import { startFakeFleet, startFleet } from '../test/helpers/fleet.js'
import type { FakeServerOptions } from '../test/helpers/ssh2-server.js'
import { sshdPath } from '../test/helpers/sshd.js'
import { parseArgs, type BenchArgs, type Shape } from './bench/args.js'
import { compareShape, header, markdownRow, MARKDOWN_HEADER, nodeStartup, type ShapeResult } from './bench/compare.js'
import { summariseProfiles } from './bench/profile.js'
import { compareStartup } from './bench/startup.js'
import { compareUpload } from './bench/upload.js'

async function fleet(n: number, opts: FakeServerOptions) {
  const f = await startFakeFleet(n, opts)
  const inputs = { hosts: f.hosts.join('\n'), username: 'bench', password: 'pw', 'known-hosts': f.knownHosts, command: 'bench' }
  return { ...f, inputs }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

async function scheduling(): Promise<void> {
  const f = await fleet(40, {
    onExec: (_c, s) =>
      void setTimeout(() => {
        s.write('done\n')
        s.exit(0)
        s.end()
      }, 500),
  })
  try {
    console.log('\n1. scheduling: 40 hosts, each command takes 500 ms')
    const times: Record<string, number> = {}
    for (const concurrency of ['1', '10', '40']) {
      const run = await runAction({ ...f.inputs, concurrency })
      times[concurrency] = run.durationMs
      const ok = run.outputs['succeeded-count']
      console.log(
        `   concurrency ${concurrency.padStart(2)}: ${seconds(run.durationMs)} wall (${ok}/40 succeeded; ideal ${seconds((40 / Number(concurrency)) * 500)})`,
      )
    }
    console.log(`   ratio concurrency 1 / 10: ${(times['1'] / times['10']).toFixed(1)}x; 1 / 40: ${(times['1'] / times['40']).toFixed(1)}x`)
  } finally {
    await f.close()
  }
}

/** Peak RSS (VmHWM) of a child process, polled until it exits. */
function watchPeakRss(pid: number): () => number {
  let peak = 0
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
      peak = Math.max(peak, kb)
    } catch {
      clearInterval(timer)
    }
  }, 20)
  return () => {
    clearInterval(timer)
    return peak
  }
}

async function flood(): Promise<void> {
  const perHost = 80 * 1024 * 1024
  const f = await fleet(4, {
    onExec: (_c, stream) => {
      let sent = 0
      const block = Buffer.alloc(256 * 1024, 'x\n'.repeat(128 * 1024))
      const pump = () => {
        while (sent < perHost) {
          sent += block.length
          if (!stream.write(block)) return void stream.once('drain', pump)
        }
        stream.exit(0)
        stream.end()
      }
      pump()
    },
  })
  try {
    console.log('\n2. output flood: 4 hosts printing 80 MB each at once (max-output 10MB default)')
    // Peak RSS from /usr/bin/time -v when installed (Debian package `time`), else VmHWM polled from /proc.
    const timeV = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-v'] : undefined
    let stop: (() => number) | null = null
    const run = await runAction(f.inputs, { wrapper: timeV, onSpawn: (child) => (stop = timeV ? null : watchPeakRss(child.pid!)), timeoutMs: 600_000 })
    const polled = stop ? (stop as () => number)() : 0
    const peakKb = timeV ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr)?.[1] ?? 0) : polled
    const how = timeV ? '/usr/bin/time -v' : 'VmHWM polled every 20 ms'
    const logBytes = Buffer.byteLength(run.stdout)
    console.log(`   ${seconds(run.durationMs)} wall, ${((4 * perHost) / 1024 / 1024 / (run.durationMs / 1000)).toFixed(0)} MB/s received in total`)
    console.log(`   peak RSS of the action process: ${(peakKb / 1024).toFixed(0)} MB (${how}); target < 250 MB`)
    console.log(`   log written: ${(logBytes / 1024 / 1024).toFixed(1)} MB for 320 MB of output (head and tail kept per host); exit ${run.code}`)
  } finally {
    await f.close()
  }
}

async function cancellation(): Promise<void> {
  console.log('\n3. cancellation: SIGINT while 4 commands run on hosts that ignore signals (worst case: TERM, grace, KILL, close)')
  let execs = 0
  let onRunning: () => void = () => undefined
  const running = new Promise<void>((resolve) => (onRunning = resolve))
  // SIGINT once the 4 commands run
  const f = await fleet(4, { onExec: (_c, s) => void (s.resume(), ++execs === 4 && onRunning()) })
  try {
    const run = await runAction(f.inputs, { interruptWhen: running })
    console.log(
      `   exited ${seconds(run.exitAfterSignalMs ?? NaN)} after SIGINT (runner kills at 10 s; target 5 s); exit ${run.code}; statuses ${(JSON.parse(run.outputs.results ?? '[]') as Array<{ status: string }>).map((r) => r.status).join(',')}`,
    )
  } finally {
    await f.close()
  }
}

async function realSshd(): Promise<void> {
  if (!sshdPath()) {
    console.log('\n4. real sshd: skipped (sshd not installed)')
    return
  }
  const addresses = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`)
  const f = await startFleet(addresses)
  try {
    console.log('\n4. real sshd: 8 hosts, command `true`, concurrency 8 (three runs)')
    for (let i = 0; i < 3; i++) {
      const run = await runAction({
        hosts: f.hosts.join('\n'),
        username: f.username,
        'private-key': f.clientKey,
        'known-hosts': f.knownHosts,
        command: 'true',
        concurrency: '8',
      })
      const per = (JSON.parse(run.outputs.results ?? '[]') as Array<{ durationMs: number }>).map((r) => r.durationMs)
      console.log(`   run ${i + 1}: ${seconds(run.durationMs)} wall for the whole step; per host ${Math.min(...per)}–${Math.max(...per)} ms`)
    }
  } finally {
    await f.stop()
  }
}

/** The README's shapes. */
const README_SHAPES: Array<Partial<Shape>> = [
  { hosts: 250, concurrency: 50 },
  { hosts: 100, concurrency: 50, rttMs: 50 },
  { hosts: 100, concurrency: 50, key: 'encrypted' },
  { hosts: 1000, concurrency: 100 },
]

async function compare(args: BenchArgs): Promise<void> {
  if (!sshdPath()) {
    console.log('\ncomparison: skipped (sshd not installed: apt-get install openssh-server)')
    return
  }
  if (args.cpuProf) mkdirSync(args.cpuProf, { recursive: true })
  console.log(`\n${header()}`)
  console.log(`node -e 0 (Node 24): ${Math.round(await nodeStartup(3))} ms median wall: the floor under "start→1st conn"`)
  const shapes = args.preset === 'readme' ? README_SHAPES.map((s) => ({ ...args.shape, ...s })) : [args.shape]
  const results: ShapeResult[] = []
  for (const shape of shapes) results.push(await compareShape(shape, args))
  if (args.preset === 'readme') {
    console.log(`\n${MARKDOWN_HEADER}`)
    for (const r of results) console.log(markdownRow(r))
  }
  if (args.cpuProf) console.log(`\nCPU profiles of the action and floor runs (self time, top functions):\n${summariseProfiles(args.cpuProf)}`)
}

async function main(): Promise<void> {
  if (!existsSync('dist/index.js')) throw new Error('run from the repository root')
  const args = parseArgs(process.argv.slice(2))
  console.log(`ssh-fanout bench: dist/index.js run by node_modules/.bin/node (Node 24); ${cpus().length} cores`)
  if (args.legacy) {
    await scheduling()
    await flood()
    await cancellation()
    await realSshd()
  }
  if (args.startupRounds !== null) return compareStartup(args)
  if (args.before !== null) throw new Error('--before: only with --startup')
  if (args.uploadMb !== null) {
    if (!sshdPath()) return void console.log('\nupload: skipped (sshd not installed: apt-get install openssh-server)')
    if (args.cpuProf) mkdirSync(args.cpuProf, { recursive: true })
    await compareUpload(args)
    if (args.cpuProf) console.log(`\nCPU profiles of the action and floor runs (self time, top functions):\n${summariseProfiles(args.cpuProf)}`)
    return
  }
  await compare(args)
}

main().catch((err) => {
  console.error(err instanceof Error && err.message.includes('usage: npm run bench') ? err.message : err)
  process.exit(1)
})
