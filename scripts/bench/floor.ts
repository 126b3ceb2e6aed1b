/**
 * The bench's floor: a bare ssh2 + p-map loop doing the action's work and nothing else.
 * Run as its own process: `node build/scripts/bench/floor.js config.json`; prints one JSON line.
 *
 * Per host: connect, check the host key against the fleet's known key (exact blob match),
 * authenticate with the key (parsed once, up front), exec the command, collect its output,
 * close. Same concurrency as the action. No retries, no reporting.
 */
import { readFileSync } from 'node:fs'
import pMap from 'p-map'
import ssh2 from 'ssh2'

export interface FloorConfig {
  hosts: Array<{ host: string; port: number; hostKey: string }>
  username: string
  privateKey: string
  passphrase?: string
  command: string
  concurrency: number
}

export interface FloorResult {
  ok: number
  failed: number
  errors: string[]
  largestOutput: number
}

function runHost(target: FloorConfig['hosts'][number], cfg: FloorConfig, key: unknown): Promise<number> {
  const expected = Buffer.from(target.hostKey, 'base64')
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    let output = 0
    client.on('error', reject)
    client.on('ready', () => {
      client.exec(cfg.command, (err, stream) => {
        if (err) return reject(err)
        stream.stdin.end()
        stream.on('data', (d: Buffer) => (output += d.length))
        stream.stderr.on('data', (d: Buffer) => (output += d.length))
        stream.on('exit', (code: number | null) => {
          if (code !== 0) reject(new Error(`exit ${code}`))
        })
        stream.on('close', () => {
          client.end()
          resolve(output)
        })
      })
    })
    client.connect({
      host: target.host,
      port: target.port,
      username: cfg.username,
      readyTimeout: 60_000,
      hostVerifier: (blob: Buffer) => blob.equals(expected),
      authHandler: (_methods, _partial, next) => next({ type: 'publickey', username: cfg.username, key } as never),
    })
  })
}

async function main(): Promise<void> {
  const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8')) as FloorConfig
  const key = ssh2.utils.parseKey(cfg.privateKey, cfg.passphrase)
  if (key instanceof Error) throw key
  const result: FloorResult = { ok: 0, failed: 0, errors: [], largestOutput: 0 }
  await pMap(
    cfg.hosts,
    async (target) => {
      try {
        const bytes = await runHost(target, cfg, Array.isArray(key) ? key[0] : key)
        result.ok++
        result.largestOutput = Math.max(result.largestOutput, bytes)
      } catch (err) {
        result.failed++
        if (result.errors.length < 5) result.errors.push(`${target.host}:${target.port}: ${(err as Error).message}`)
      }
    },
    { concurrency: cfg.concurrency },
  )
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
