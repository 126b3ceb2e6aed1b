/**
 * The bench fleet: a few real sshd on 127.0.0.1 (ed25519 host key each, one shared client key),
 * reached through one latency proxy per host on its own loopback address 127.1.x.y, so that
 * thousands of hosts cost thousands of listeners, not thousands of sshd.
 */
import { readFileSync } from 'node:fs'
import { startFleet, type Fleet } from '../../test/helpers/fleet.js'
import { startProxies, type Proxies } from '../../test/helpers/latency-proxy.js'
import type { Shape } from './args.js'

export const PASSPHRASE = 'bench passphrase'

export interface BenchHost {
  host: string
  port: number
  /** base64 of the host key blob of the sshd behind this host */
  hostKey: string
}

export interface BenchFleet {
  sshd: Fleet
  proxies: Proxies
  hosts: BenchHost[]
  username: string
  clientKey: string
  passphrase: string
  /** one `[127.1.x.y]:port ssh-ed25519 AAAA…` line per host */
  knownHosts: string
  /** one `* ssh-ed25519 AAAA…` line per sshd: for fleets whose per-host lines do not fit one environment variable */
  knownHostsAnyHost: string
  stop(): Promise<void>
}

/** 127.1.x.y for host i: 250 hosts per /24, no .0 or .255. */
export function benchAddress(i: number): string {
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`
}

/** Soft limit of open files of this process (from /proc/self/limits), or null. */
export function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : null
  } catch {
    return null
  }
}

/** Throws before anything starts when the proxies would run out of file descriptors. */
export function checkFileLimit(shape: Shape): void {
  const limit = openFileLimit()
  const need = shape.hosts + 4 * shape.concurrency + 200 // listeners, two sockets per proxied connection (plus retries), sshd pipes
  if (limit !== null && limit < need) {
    throw new Error(
      `--hosts ${shape.hosts} --concurrency ${shape.concurrency} needs about ${need} open files; this shell allows ${limit}. Raise it first: ulimit -n ${need * 2}`,
    )
  }
}

/** `extraConfig`: more sshd_config lines (e.g. an SFTP subsystem for scp). */
export async function startBenchFleet(shape: Shape, extraConfig: string[] = []): Promise<BenchFleet> {
  checkFileLimit(shape)
  const nSshd = Math.min(4, shape.hosts)
  const sshd = await startFleet(
    Array.from({ length: nSshd }, () => '127.0.0.1'),
    {
      hostKeyTypes: ['ed25519'],
      ...(shape.key === 'encrypted' ? { clientKeyPassphrase: PASSPHRASE } : {}),
      // sshd drops connections beyond MaxStartups unauthenticated ones; the bench opens hundreds at once.
      extraConfig: [
        'MaxStartups 10000:100:10000',
        'LogLevel INFO',
        ...(shape.kex === 'curve25519' ? ['KexAlgorithms curve25519-sha256,sntrup761x25519-sha512@openssh.com,ecdh-sha2-nistp256'] : []),
        ...extraConfig,
      ],
    },
  )
  let proxies: Proxies
  try {
    const upstreams = sshd.servers.map((s) => ({ host: s.host, port: s.port }))
    proxies = await startProxies(
      Array.from({ length: shape.hosts }, (_, i) => benchAddress(i)),
      upstreams,
      shape.rttMs,
    )
  } catch (err) {
    await sshd.stop()
    throw err
  }
  const hosts = proxies.listeners.map((l) => ({ host: l.address, port: l.port, hostKey: sshd.servers[l.upstream].hostKeys[0].publicLine.split(' ')[1] }))
  return {
    sshd,
    proxies,
    hosts,
    username: sshd.username,
    clientKey: sshd.clientKey,
    passphrase: shape.key === 'encrypted' ? PASSPHRASE : '',
    knownHosts: hosts.map((h) => `[${h.host}]:${h.port} ssh-ed25519 ${h.hostKey}`).join('\n'),
    knownHostsAnyHost: sshd.servers.map((s) => `* ${s.hostKeys[0].publicLine}`).join('\n'),
    stop: async () => {
      await proxies.close()
      await sshd.stop()
    },
  }
}
