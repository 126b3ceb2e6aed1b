/** Command-line flags of `npm run bench -- ...`. */

export type Contender = 'floor' | 'action' | 'pssh'
export const CONTENDERS: Contender[] = ['floor', 'action', 'pssh']

export interface Shape {
  hosts: number
  concurrency: number
  command: string
  rttMs: number
  key: 'plain' | 'encrypted'
  /** sshd's key exchange preference: OpenSSH's own (sntrup761x25519-sha512 first), or curve25519-sha256 first */
  kex: 'stock' | 'curve25519'
}

export interface BenchArgs {
  /** no flags at all: the original sections 1–4, then one comparison at the default shape */
  legacy: boolean
  preset: 'readme' | null
  shape: Shape
  rounds: number
  only: Contender[]
  /** write a V8 CPU profile of each action run into this directory */
  cpuProf: string | null
  /** upload mode: MB (2^20 bytes) of random data sent by the action and by scp (scripts/bench/upload.ts) */
  uploadMb: number | null
  /** start-up mode: interleaved rounds of spawn to the first connection attempt (scripts/bench/startup.ts) */
  startupRounds: number | null
  /** start-up mode: the directory of another build's bundle (its index.js) to compare with dist/ */
  before: string | null
}

export const DEFAULT_SHAPE: Shape = { hosts: 100, concurrency: 50, command: 'echo ok', rttMs: 0, key: 'plain', kex: 'stock' }

export const USAGE = `usage: npm run bench [-- flags]
  (no flags)            the original sections, then one comparison at the default shape
  --hosts N             1..5000 (default ${DEFAULT_SHAPE.hosts})
  --concurrency C       >= 1 (default ${DEFAULT_SHAPE.concurrency})
  --command CMD         remote command (default '${DEFAULT_SHAPE.command}')
  --rtt MS              added round-trip latency per host, 0..2000 (default 0)
  --key plain|encrypted ed25519 client key without or with passphrase (default plain)
  --kex stock|curve25519  sshd's key exchange preference: OpenSSH's own (sntrup761x25519 first, which ssh2
                        lacks) or curve25519-sha256 first, as Dropbear's (default stock)
  --rounds R            interleaved rounds per contender, 1..50 (default 3)
  --only LIST           comma-separated subset of ${CONTENDERS.join(',')} (default all)
  --preset readme       the README's shapes; prints a Markdown table
  --cpu-prof DIR        write a CPU profile of every action and floor run into DIR/action, DIR/floor; summarise them
  --upload MB           instead: MB of random data in 5 files, sent to every host by the action
                        (upload + command \`true\`) and by OpenSSH scp -r (copy only), --concurrency at a time
  --startup ROUNDS      instead: start-up, spawn to the first connection attempt against one refused host,
                        ROUNDS interleaved rounds of bare node, dist/index.js and (with --before) another bundle
  --before DIR          with --startup: the directory of the bundle to compare with (e.g. a copy of main's dist/)`

function whole(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new Error(`${flag}: expected a whole number from ${min} to ${max}, got '${value}'\n${USAGE}`)
  }
  return Number(value)
}

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = {
    legacy: argv.length === 0,
    preset: null,
    shape: { ...DEFAULT_SHAPE },
    rounds: 3,
    only: [...CONTENDERS],
    cpuProf: null,
    uploadMb: null,
    startupRounds: null,
    before: null,
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    if (flag === '--help' || flag === '-h') throw new Error(USAGE)
    const value = argv[++i]
    if (value === undefined) throw new Error(`${flag}: missing value\n${USAGE}`)
    switch (flag) {
      case '--hosts':
        args.shape.hosts = whole(flag, value, 1, 5000)
        break
      case '--concurrency':
        args.shape.concurrency = whole(flag, value, 1, 5000)
        break
      case '--rtt':
        args.shape.rttMs = whole(flag, value, 0, 2000)
        break
      case '--rounds':
        args.rounds = whole(flag, value, 1, 50)
        break
      case '--command':
        if (value.trim() === '') throw new Error(`--command: expected a non-empty command\n${USAGE}`)
        args.shape.command = value
        break
      case '--key':
        if (value !== 'plain' && value !== 'encrypted') throw new Error(`--key: expected plain or encrypted, got '${value}'\n${USAGE}`)
        args.shape.key = value
        break
      case '--kex':
        if (value !== 'stock' && value !== 'curve25519') throw new Error(`--kex: expected stock or curve25519, got '${value}'\n${USAGE}`)
        args.shape.kex = value
        break
      case '--only': {
        const names = value.split(',').map((s) => s.trim())
        const bad = names.filter((n) => !CONTENDERS.includes(n as Contender))
        if (bad.length > 0 || names.length === 0)
          throw new Error(`--only: expected a comma-separated subset of ${CONTENDERS.join(',')}, got '${value}'\n${USAGE}`)
        args.only = CONTENDERS.filter((c) => names.includes(c))
        break
      }
      case '--preset':
        if (value !== 'readme') throw new Error(`--preset: expected readme, got '${value}'\n${USAGE}`)
        args.preset = value
        break
      case '--cpu-prof':
        args.cpuProf = value
        break
      case '--upload':
        args.uploadMb = whole(flag, value, 1, 2000)
        break
      case '--startup':
        args.startupRounds = whole(flag, value, 1, 500)
        break
      case '--before':
        args.before = value
        break
      default:
        throw new Error(`unknown flag '${flag}'\n${USAGE}`)
    }
  }
  return args
}

/** The flags that reproduce a shape (for the preset table). */
export function shapeFlags(shape: Shape, rounds: number): string {
  const parts = [`--hosts ${shape.hosts}`, `--concurrency ${shape.concurrency}`]
  if (shape.rttMs > 0) parts.push(`--rtt ${shape.rttMs}`)
  if (shape.key !== 'plain') parts.push(`--key ${shape.key}`)
  if (shape.kex !== 'stock') parts.push(`--kex ${shape.kex}`)
  if (shape.command !== DEFAULT_SHAPE.command) parts.push(`--command '${shape.command.replace(/'/g, `'\\''`)}'`)
  parts.push(`--rounds ${rounds}`)
  return `npm run bench -- ${parts.join(' ')}`
}
