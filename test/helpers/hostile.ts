/**
 * Hosts that put text of their choosing into our error messages: a DISCONNECT before key
 * exchange (raw TCP, no SSH library), and an ssh2 server whose authentication method names,
 * channel-open failure text or DISCONNECT during the command carry it.
 */
import { createRequire } from 'node:module'
import net from 'node:net'
import ssh2 from 'ssh2'
import type { Connection, ParsedKey } from 'ssh2'
import { generateKeyPair } from './ssh2-server.js'

const require = createRequire(import.meta.url)

/** SSH_MSG_DISCONNECT payload: reason 2 (protocol error), description, empty language tag. */
function disconnectPayload(description: string): Buffer {
  const desc = Buffer.from(description)
  const head = Buffer.alloc(9)
  head[0] = 1
  head.writeUInt32BE(2, 1)
  head.writeUInt32BE(desc.length, 5)
  return Buffer.concat([head, desc, Buffer.alloc(4)])
}

/** An unencrypted binary packet (RFC 4253 section 6), as sent before the first key exchange. */
function plainPacket(payload: Buffer): Buffer {
  let pad = 8 - ((5 + payload.length) % 8)
  if (pad < 4) pad += 8
  const head = Buffer.alloc(5)
  head.writeUInt32BE(1 + payload.length + pad, 0)
  head[4] = pad
  return Buffer.concat([head, payload, Buffer.alloc(pad)])
}

export interface Listening {
  host: string
  port: number
  close(): Promise<void>
}

async function listen(server: net.Server, sockets: Set<net.Socket>, host: string): Promise<Listening> {
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s)).on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}

/** Sends its identification, then SSH_MSG_DISCONNECT with `description` before any key exchange. */
export async function disconnectBeforeKex(description: string, host = '127.0.0.1'): Promise<Listening> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    socket.resume()
    socket.write('SSH-2.0-Hostile_1.0\r\n')
    socket.end(plainPacket(disconnectPayload(description)))
  })
  return listen(server, sockets, host)
}

/** Sends SSH_MSG_DISCONNECT with a description through an established (encrypted) ssh2 connection. */
function sendDisconnect(conn: Connection, description: string): void {
  type Writer = { allocStart: number; alloc(this: void, n: number): Buffer; finalize(this: void, p: Buffer): Buffer }
  const proto = (conn as unknown as { _protocol?: { _packetRW?: { write?: Writer } } })._protocol
  const writer = proto?._packetRW?.write
  if (!proto || !writer) throw new Error('ssh2 internals changed: cannot send a DISCONNECT with a description')
  const utils = require('ssh2/lib/protocol/utils.js') as { sendPacket(proto: unknown, packet: Buffer): void }
  const payload = disconnectPayload(description)
  const start = writer.allocStart
  const packet = writer.alloc(payload.length)
  payload.copy(packet, start)
  utils.sendPacket(proto, writer.finalize(packet))
}

/** A fresh ed25519 host key (see generateKeyPair), parsed. */
function newHostKey(): { hostKey: { private: string }; parsed: ParsedKey } {
  const hostKey = generateKeyPair()
  return { hostKey, parsed: ssh2.utils.parseKey(hostKey.private) as ParsedKey }
}

export interface HostileSsh2Options {
  /** Authentication fails, offering these method names. */
  authMethods?: string[]
  /** The session channel is refused with this description. */
  channelOpenFailure?: string
  /** The command starts, prints a line, then the server disconnects with this description. */
  disconnectDuringCommand?: string
}

export interface HostileSsh2 extends Listening {
  knownHostsLine: string
}

/** An ssh2 server (any password accepted unless authMethods is set) that misbehaves as told. */
export async function startHostileSsh2(opts: HostileSsh2Options, host = '127.0.0.1'): Promise<HostileSsh2> {
  const { hostKey, parsed } = newHostKey()
  const sshServer = new ssh2.Server({ hostKeys: [hostKey.private] }, (conn) => {
    conn.on('error', () => undefined)
    conn.on('authentication', (ctx) => (opts.authMethods ? ctx.reject(opts.authMethods as never) : ctx.accept()))
    conn.on('session', (accept, reject) => {
      const failure = opts.channelOpenFailure
      if (failure !== undefined) {
        const proto = (conn as unknown as { _protocol: { channelOpenFail(remote: number, reason: number, desc: string): void } })._protocol
        const original = proto.channelOpenFail.bind(proto)
        proto.channelOpenFail = (remote, reason) => original(remote, reason, failure)
        return reject()
      }
      accept().on('exec', (acceptExec) => {
        const stream = acceptExec()
        stream.write('started\n')
        if (opts.disconnectDuringCommand !== undefined) sendDisconnect(conn, opts.disconnectDuringCommand)
        else {
          stream.exit(0)
          stream.end()
        }
      })
    })
  })
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => sshServer.injectSocket(socket))
  const listening = await listen(server, sockets, host)
  const blob = parsed.getPublicSSH()
  return { ...listening, knownHostsLine: `[${host}]:${listening.port} ${parsed.type} ${blob.toString('base64')}` }
}
