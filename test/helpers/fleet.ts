/**
 * A fleet of real sshd servers on loopback sharing one client key, logged in as an
 * unprivileged user when the tests run as root (OpenSSH ignores signal requests in root
 * sessions, and production fleets do not deploy as root either).
 */
import { readFileSync } from 'node:fs'
import { startFakeServer, type FakeServer, type FakeServerOptions } from './ssh2-server.js'
import { ensureLoginUser, startSshd, type Sshd, type SshdOptions } from './sshd.js'

export interface Fleet {
  servers: Sshd[]
  username: string
  clientKey: string
  knownHosts: string
  /** `host:port` entries for the hosts input */
  hosts: string[]
  stop(): Promise<void>
}

export async function loginUser(): Promise<string | undefined> {
  return process.getuid?.() === 0 ? ensureLoginUser() : undefined
}

export async function startFleet(addresses: string[], opts: SshdOptions = {}): Promise<Fleet> {
  const user = opts.user ?? (await loginUser())
  const servers: Sshd[] = []
  try {
    const first = await startSshd({ ...opts, host: addresses[0], user })
    servers.push(first)
    const publicKey = readFileSync(`${first.clientKeyPath}.pub`, 'utf8')
    servers.push(...(await Promise.all(addresses.slice(1).map((host) => startSshd({ ...opts, host, user, authorizedKeys: [publicKey] })))))
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()))
    throw err
  }
  return {
    servers,
    username: servers[0].username,
    clientKey: servers[0].clientKey,
    knownHosts: servers.map((s) => s.knownHosts.trim()).join('\n'),
    hosts: servers.map((s) => `${s.host}:${s.port}`),
    stop: async () => void (await Promise.all(servers.map((s) => s.stop()))),
  }
}

export interface FakeFleet {
  servers: FakeServer[]
  /** `host:port` entries for the hosts input */
  hosts: string[]
  knownHosts: string
  close(): Promise<void>
}

/** `n` in-process ssh2 servers (password `pw` unless `opts.auth` says otherwise). */
export async function startFakeFleet(n: number, opts: FakeServerOptions = {}): Promise<FakeFleet> {
  const servers = await Promise.all(Array.from({ length: n }, () => startFakeServer({ auth: { password: 'pw' }, ...opts })))
  return {
    servers,
    hosts: servers.map((s) => `${s.host}:${s.port}`),
    knownHosts: servers.map((s) => s.hostKeyPublic.knownHostsLine).join('\n'),
    close: async () => void (await Promise.all(servers.map((s) => s.close()))),
  }
}
