/**
 * `npm run bench -- --upload MB`: the action's upload against OpenSSH scp on one real-sshd fleet.
 *
 * A temp workspace holds MB of random data in 5 files under files/. Interleaved rounds of:
 *   action = node24 dist/index.js with upload `files/`, upload-to DIR, command `true` (packs once, streams
 *            the tar on each host's connection, unpacks and renames into place, then runs the command);
 *   scp    = `xargs -P C` running `scp -r files host:DIR-i` per host (OpenSSH 9's SFTP mode; copy only, no command).
 * Every sshd writes into one local temp dir (loopback), so each run is checked by the sizes of what arrived,
 * and removed before the next. Figures as in the comparison: wall from spawn to exit, peak RSS and CPU from
 * /usr/bin/time -v (for scp: CPU of xargs and all scp processes, peak RSS of the largest single scp).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../test/helpers/action.js'
import type { BenchArgs, Shape } from './args.js'
import { actionKnownHosts, median, parseTimeV, timedSpawn, wrapper } from './contenders.js'
import { startBenchFleet, type BenchFleet } from './fleet.js'

type UploadContender = 'action' | 'scp'
const CONTENDERS: UploadContender[] = ['action', 'scp']
const FILES = 5
const MIB = 1024 * 1024

interface UploadRun {
  wallMs: number
  /** hosts whose destination holds every file at its full size */
  delivered: number
  rssKb: number
  cpuS: number
  note?: string
}

interface Workspace {
  dir: string
  /** name -> size of each file under files/ */
  files: Map<string, number>
  bytes: number
}

function makeWorkspace(mb: number): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-upbench-ws-'))
  mkdirSync(join(dir, 'files'))
  const files = new Map<string, number>()
  const total = mb * MIB
  for (let i = 0; i < FILES; i++) {
    const size = Math.floor(total / FILES) + (i === FILES - 1 ? total % FILES : 0)
    const name = `part-${i + 1}.bin`
    writeFileSync(join(dir, 'files', name), randomBytes(size))
    files.set(name, size)
  }
  return { dir, files, bytes: total }
}

/** True when `dir` holds every workspace file at its size. */
function complete(dir: string, ws: Workspace): boolean {
  if (!existsSync(dir)) return false
  return [...ws.files].every(([name, size]) => existsSync(join(dir, name)) && statSync(join(dir, name)).size === size)
}

/** Empties the destination base (files written by the fleet's login user; we may remove them). */
function clear(base: string): void {
  for (const e of readdirSync(base)) rmSync(join(base, e), { recursive: true, force: true })
}

async function runActionUpload(fleet: BenchFleet, shape: Shape, ws: Workspace, base: string, cpuProf: string | null): Promise<UploadRun> {
  const dest = join(base, 'action')
  const run = await runAction(
    {
      hosts: fleet.hosts.map((h) => `${h.host}:${h.port}`).join('\n'),
      username: fleet.username,
      'private-key': fleet.clientKey,
      'known-hosts': actionKnownHosts(fleet).text,
      command: 'true',
      concurrency: String(shape.concurrency),
      upload: 'files/',
      'upload-to': dest,
    },
    {
      wrapper: wrapper(),
      timeoutMs: 1_800_000,
      env: { GITHUB_WORKSPACE: ws.dir, ...(cpuProf ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${cpuProf}` } : {}) },
    },
  )
  const usage = parseTimeV(run.stderr) ?? { rssKb: NaN, cpuS: NaN }
  // every host lands in the same directory here: it is complete, and each host that succeeded put it there
  const ok = Number(run.outputs['succeeded-count'] ?? 0)
  const delivered = complete(dest, ws) ? ok : 0
  const errors = run.stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .slice(0, 3)
  const note = run.code === 0 ? undefined : `exit ${run.code}: ${errors.join(' | ') || run.stderr.slice(0, 300)}`
  return { wallMs: run.durationMs, delivered, rssKb: usage.rssKb, cpuS: usage.cpuS, note }
}

async function runScpUpload(fleet: BenchFleet, shape: Shape, ws: Workspace, base: string, keys: string): Promise<UploadRun> {
  const list = join(keys, 'hosts')
  const dests = fleet.hosts.map((_, i) => join(base, `scp-${i + 1}`))
  // one scp per line: xargs splits on blanks, and no path here has any
  writeFileSync(list, fleet.hosts.map((h, i) => `-P ${h.port} ${join(ws.dir, 'files')} ${fleet.username}@${h.host}:${dests[i]}`).join('\n') + '\n')
  const scp = [
    'scp',
    '-q',
    '-r',
    '-i',
    join(keys, 'key'),
    '-F',
    '/dev/null',
    '-o',
    `UserKnownHostsFile=${join(keys, 'known_hosts')}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
  ]
  const run = await timedSpawn('xargs', ['-a', list, '-P', String(shape.concurrency), '-L', '1', ...scp])
  const delivered = dests.filter((d) => complete(d, ws)).length
  const note = run.code === 0 ? undefined : `exit ${run.code}: ${run.stderr.split('\n').find((l) => l.trim() !== '' && !l.startsWith('\t')) ?? ''}`
  return { wallMs: run.wallMs, delivered, rssKb: run.usage.rssKb, cpuS: run.usage.cpuS, note }
}

const secs = (x: number) => `${(x / 1000).toFixed(2)} s`

/** Runs the upload comparison at the shape's hosts and concurrency and prints a table. */
export async function compareUpload(args: BenchArgs): Promise<void> {
  const shape = args.shape
  const mb = args.uploadMb!
  const command = `npm run bench -- --upload ${mb} --hosts ${shape.hosts} --concurrency ${shape.concurrency} --rounds ${args.rounds}`
  console.log(
    `\nupload: ${mb} MB (2^20 bytes; ${FILES} files of random data) to each of ${shape.hosts} hosts, concurrency ${shape.concurrency}, ${args.rounds} rounds   (${command})`,
  )
  console.log('   action = upload `files/` + command `true` (pack once, tar stream per connection, rename into place, then the command)')
  console.log(`   scp    = xargs -P ${shape.concurrency} scp -r files host:dir (${sshVersion()}, SFTP mode; copy only, no command)`)
  const ws = makeWorkspace(mb)
  const base = mkdtempSync(join(tmpdir(), 'ssh-fanout-upbench-dest-'))
  chmodSync(base, 0o777) // the fleet logs in as an unprivileged user when we are root
  const keys = mkdtempSync(join(tmpdir(), 'ssh-fanout-upbench-keys-'))
  const runs: Record<UploadContender, UploadRun[]> = { action: [], scp: [] }
  process.stdout.write(`\nstarting fleet: ${shape.hosts} hosts ...`)
  const fleet = await startBenchFleet(shape, ['Subsystem sftp internal-sftp'])
  try {
    writeFileSync(join(keys, 'key'), fleet.clientKey, { mode: 0o600 })
    writeFileSync(join(keys, 'known_hosts'), fleet.knownHosts + '\n')
    for (let round = 0; round < args.rounds; round++) {
      for (const c of round % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse()) {
        process.stdout.write(` ${c}`)
        fleet.proxies.reset()
        runs[c].push(c === 'action' ? await runActionUpload(fleet, shape, ws, base, args.cpuProf) : await runScpUpload(fleet, shape, ws, base, keys))
        clear(base)
      }
    }
  } finally {
    await fleet.stop()
    for (const d of [ws.dir, base, keys]) rmSync(d, { recursive: true, force: true })
  }
  process.stdout.write('\n')
  const scpWall = median(runs.scp.map((r) => r.wallMs))
  const header = ['', 'median', 'min–max', 'MB/s', '×scp', 'peak RSS', 'CPU (user+sys)', 'delivered']
  const rows = [header]
  for (const c of CONTENDERS) {
    const walls = runs[c].map((r) => r.wallMs)
    const wall = median(walls)
    rows.push([
      c,
      secs(wall),
      `${secs(Math.min(...walls))}–${secs(Math.max(...walls))}`,
      ((mb * shape.hosts) / (wall / 1000)).toFixed(0),
      `${(wall / scpWall).toFixed(2)}x`,
      `${(median(runs[c].map((r) => r.rssKb)) / 1024).toFixed(0)} MB`,
      `${median(runs[c].map((r) => r.cpuS)).toFixed(1)} s`,
      runs[c].map((r) => `${r.delivered}/${shape.hosts}`).join(','),
    ])
    for (const note of new Set(runs[c].map((r) => r.note).filter(Boolean))) console.log(`   ${c}: ${note}`)
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  for (const r of rows) console.log(`   ${r.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd())
  console.log(`   MB/s = ${mb} MB × ${shape.hosts} hosts / median wall; scp's peak RSS is its largest single process (${shape.concurrency} run at once)`)
}

/** `OpenSSH_9.2p1` from `ssh -V` (printed on stderr). */
function sshVersion(): string {
  const v = spawnSync('ssh', ['-V'], { encoding: 'utf8' })
  return /OpenSSH_[^\s,]+/.exec(`${v.stderr}${v.stdout}`)?.[0] ?? 'unknown version'
}
