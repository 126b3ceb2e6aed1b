/**
 * Test fixtures for the login: an ssh2 server that does not keep a channel opened before the
 * login succeeded (hangs up, as Dropbear and Go's x/crypto/ssh do, or opens it late), real
 * Dropbear run per connection (inetd style, on a listener of ours), and an ssh-agent.
 */
import { execFile, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import ssh2 from 'ssh2'
import type { AuthContext, Connection } from 'ssh2'
import { generateKeyPair, withoutRunToken } from './ssh2-server.js'
import { requireTool } from './tools.js'

const execFileP = promisify(execFile)

/** What one connection saw: channels opened before the login succeeded, authentication requests, exec requests. */
export interface Seen {
  earlyChannels: number
  auth: string[]
  execs: string[]
}

export interface PickyServer {
  host: string
  port: number
  /** `[host]:port type base64`, for known-hosts. */
  knownHostsLine: string
  /** One entry per TCP connection accepted, in order. */
  seen: Seen[]
  close(): Promise<void>
}

/**
 * An ssh2 server that refuses every key and takes the password `pw`, and does `early` with a
 * channel opened before the login succeeded: hangs up (as Dropbear: "message 90 before
 * userauth"), or holds it and opens it once the login succeeded (as a lenient server might).
 * `ident` is the software version it names itself (default: ssh2's own); `dropConnections`
 * (1-based) are closed as soon as they are accepted. Each exec prints `ok` and exits 0.
 * ssh2's own server refuses such a channel; this relies on its 1.x internals.
 */
export async function startPickyServer(opts: { early: 'hang up' | 'open after login'; ident?: string; dropConnections?: number[] }): Promise<PickyServer> {
  const seen: Seen[] = []
  const byPort = new Map<number, { seen: Seen; socket: net.Socket }>()
  const methods: ssh2.AuthenticationType[] = ['publickey', 'password']
  const hostKey = generateKeyPair()
  const server = new ssh2.Server({ hostKeys: [hostKey.private], ...(opts.ident ? { ident: opts.ident } : {}) }, (conn, info) => {
    const { seen: s, socket } = byPort.get(info.port)!
    conn.on('error', () => undefined)
    const internals = conn as unknown as {
      authenticated?: boolean
      _protocol?: { _handlers?: { CHANNEL_OPEN?: (this: void, p: unknown, info: unknown) => void } }
    }
    const handlers = internals._protocol?._handlers
    const original = handlers?.CHANNEL_OPEN
    if (!handlers || !original) throw new Error('ssh2 internals changed: cannot patch CHANNEL_OPEN')
    const held: Array<() => void> = []
    handlers.CHANNEL_OPEN = (p, info) => {
      if (internals.authenticated) return original(p, info)
      s.earlyChannels++
      if (opts.early === 'hang up') return void socket.destroy()
      held.push(() => original(p, info))
    }
    conn.on('authentication', (ctx: AuthContext) => {
      if (ctx.method === 'publickey') {
        s.auth.push(ctx.signature ? 'key signed' : 'key query')
        return ctx.reject(methods)
      }
      if (ctx.method === 'password') {
        s.auth.push('password')
        return ctx.password === 'pw' ? ctx.accept() : ctx.reject(methods)
      }
      ctx.reject(methods)
    })
    conn.on('ready', () => {
      for (const open of held.splice(0)) open()
    })
    serveCommands(conn, s)
  })
  const sockets = new Set<net.Socket>()
  const listener = net.createServer((socket) => {
    const n = seen.push({ earlyChannels: 0, auth: [], execs: [] })
    if (opts.dropConnections?.includes(n)) return void socket.destroy()
    sockets.add(socket.on('error', () => undefined).on('close', () => sockets.delete(socket)))
    byPort.set(socket.remotePort!, { seen: seen[n - 1], socket })
    server.injectSocket(socket)
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const port = (listener.address() as net.AddressInfo).port
  const parsed = ssh2.utils.parseKey(hostKey.public) as ssh2.ParsedKey
  return {
    host: '127.0.0.1',
    port,
    knownHostsLine: `[127.0.0.1]:${port} ${parsed.type} ${parsed.getPublicSSH().toString('base64')}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}

function serveCommands(conn: Connection, seen: Seen): void {
  conn.on('session', (accept) => {
    accept().on('exec', (acceptExec, _reject, info) => {
      seen.execs.push(withoutRunToken(info.command))
      const stream = acceptExec()
      stream.write('ok\n')
      stream.exit(0)
      stream.end()
    })
  })
}

export const DROPBEAR = '/usr/sbin/dropbear'

/** True when Dropbear is installed; says loudly that its tests are skipped when not (never in CI). */
export const haveDropbear = (): boolean => requireTool(DROPBEAR, 'dropbear-bin')

export interface Dropbear {
  host: string
  port: number
  knownHostsLine: string
  /** TCP connections accepted so far. */
  readonly accepted: number
  close(): Promise<void>
}

/**
 * Real Dropbear on loopback: one `dropbear -i` per connection on a listener of ours (no port to
 * wait for, nothing left running). No password logins (-s), no root logins (-w); keys are checked
 * against the account's own ~/.ssh/authorized_keys, which the tests do not touch.
 */
export async function startDropbear(dir: string): Promise<Dropbear> {
  const hostKey = join(dir, 'dropbear_host_key')
  await execFileP('dropbearkey', ['-t', 'ed25519', '-f', hostKey])
  const { stdout } = await execFileP('dropbearkey', ['-y', '-f', hostKey])
  const publicLine = /^(ssh-ed25519 \S+)/m.exec(stdout)![1]
  let accepted = 0
  const sockets = new Set<net.Socket>()
  // Paused: the socket's bytes are Dropbear's to read, not ours.
  const listener = net.createServer({ pauseOnConnect: true }, (socket) => {
    accepted++
    sockets.add(socket.on('error', () => undefined).on('close', () => sockets.delete(socket)))
    const child = spawn(DROPBEAR, ['-i', '-s', '-w', '-r', hostKey], { stdio: [socket, socket, 'ignore'] })
    child.on('exit', () => socket.destroy())
    child.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const port = (listener.address() as net.AddressInfo).port
  return {
    host: '127.0.0.1',
    port,
    knownHostsLine: `[127.0.0.1]:${port} ${publicLine}`,
    get accepted() {
      return accepted
    },
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}

/** An ssh-agent (socket in `dir`) holding `privateKey` (OpenSSH text), ready once it printed its socket. */
export async function startAgent(dir: string, privateKey: string): Promise<{ socket: string; stop(): void }> {
  const socket = join(dir, `agent-${Date.now()}-${Math.random().toString(36).slice(2)}.sock`)
  const keyFile = `${socket}.key`
  writeFileSync(keyFile, privateKey, { mode: 0o600 })
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const exited = (code: number | null) => reject(new Error(`ssh-agent exited (${code}): ${out}`))
    agent.once('error', reject)
    agent.once('exit', exited)
    agent.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!out.includes('SSH_AUTH_SOCK=')) return
      agent.off('exit', exited)
      resolve()
    })
  })
  await execFileP('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket } })
  return { socket, stop: () => void agent.kill() }
}
