/**
 * Test fixture: an in-process SSH server (ssh2.Server) for behaviour a real
 * sshd can't be made to show: password / keyboard-interactive auth, scripted
 * exec replies, and servers that stall at the banner, key exchange or
 * authentication.
 *
 * Every mode listens on its own net.Server, so `connections` counts raw TCP
 * connections and `close()` can destroy every socket, whatever the phase.
 */
import ssh2 from 'ssh2'
import type { AuthContext, AuthenticationType, ParsedKey, ServerChannel, Connection } from 'ssh2'
import { createHash } from 'node:crypto'
import net from 'node:net'

export interface ExecSessionInfo {
  /** signal names received on this session so far, without 'SIG' (e.g. 'TERM') */
  signals: string[]
  /** env requests received on this session before the exec */
  env: Record<string, string>
  /** call `listener` for each signal request received from now on */
  onSignal(listener: (name: string) => void): void
}

export interface FakeServerOptions {
  /** default '127.0.0.1' */
  host?: string
  /** host private key text; default: one ed25519 key generated per process */
  hostKey?: string
  /**
   * What authentication succeeds (any username). Omitted: everything, even the
   * 'none' method. Given: only the listed methods succeed.
   */
  auth?: {
    password?: string
    /** OpenSSH public key line ('ssh-ed25519 AAAA... comment') */
    publicKey?: string
    /** password that must be answered to a keyboard-interactive prompt */
    keyboardInteractive?: string
    none?: boolean
  }
  /**
   * Called for each exec request with the accepted channel and the command
   * without the session's run token. Default: write `ran: ${command}\n` to
   * stdout and exit 0.
   */
  onExec?: (command: string, stream: ServerChannel, info: ExecSessionInfo) => void
  /**
   * Never respond at that phase:
   *  - 'banner': plain TCP server that accepts and never writes (a tarpit)
   *  - 'handshake': sends an SSH-2.0 banner, then nothing (stalls after the client's KEXINIT)
   *  - 'auth': real ssh2 server whose authentication handler never answers
   */
  stall?: 'banner' | 'handshake' | 'auth'
}

export interface FakeServer {
  host: string
  port: number
  hostKeyPublic: {
    /** e.g. 'ssh-ed25519' */
    type: string
    /** 'SHA256:...' as ssh-keygen -l prints it */
    fingerprint: string
    /** known_hosts line for `[host]:port` */
    knownHostsLine: string
  }
  /** every exec command received, in order (without the session's run token) */
  commands: string[]
  /** TCP connections accepted */
  connections: number
  /** closes the listener and destroys all sockets */
  close(): Promise<void>
}

let defaultHostKey: string | undefined

function getDefaultHostKey(): string {
  defaultHostKey ??= generateKeyPair().private
  return defaultHostKey
}

/** A fresh client key pair: OpenSSH private key text and OpenSSH public key line. */
/**
 * A fresh key pair. ssh2's generateKeyPairSync now and then (about 1 in 100) returns a key its own
 * parseKey calls malformed: generate again until both halves parse.
 */
export function generateKeyPair(type: 'ed25519' | 'rsa' = 'ed25519'): { private: string; public: string } {
  for (let attempt = 0; ; attempt++) {
    const pair = type === 'rsa' ? ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }) : ssh2.utils.generateKeyPairSync('ed25519')
    const parsed = [ssh2.utils.parseKey(pair.private), ssh2.utils.parseKey(pair.public)]
    if (!parsed.some((k) => k instanceof Error)) return { private: pair.private, public: pair.public }
    if (attempt >= 20) throw parsed.find((k) => k instanceof Error) as Error
  }
}

/** A client key pair (see generateKeyPair). */
export const generateClientKey = generateKeyPair

function parseKeyOrThrow(text: string, what: string): ParsedKey {
  const key = ssh2.utils.parseKey(text)
  if (key instanceof Error) throw new Error(`${what}: ${key.message}`)
  return key
}

/** SHA256 fingerprint of a public key blob, formatted like `ssh-keygen -l`. */
export function fingerprintOf(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`
}

function handleAuth(ctx: AuthContext, auth: FakeServerOptions['auth'], allowedKey: ParsedKey | undefined): void {
  if (!auth) return ctx.accept()
  const methods: AuthenticationType[] = []
  if (auth.publicKey !== undefined) methods.push('publickey')
  if (auth.password !== undefined) methods.push('password')
  if (auth.keyboardInteractive !== undefined) methods.push('keyboard-interactive')
  const reject = (): void => ctx.reject(methods)

  switch (ctx.method) {
    case 'none':
      return auth.none ? ctx.accept() : reject()
    case 'password':
      return auth.password !== undefined && ctx.password === auth.password ? ctx.accept() : reject()
    case 'keyboard-interactive': {
      const expected = auth.keyboardInteractive
      if (expected === undefined) return reject()
      return ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => (answers[0] === expected ? ctx.accept() : reject()))
    }
    case 'publickey': {
      // compare the key blob (it embeds the key type; ctx.key.algo may be rsa-sha2-* for ssh-rsa)
      if (!allowedKey || !ctx.key.data.equals(allowedKey.getPublicSSH())) return reject()
      // without a signature the client only asks whether the key would do
      if (ctx.signature && ctx.blob && !allowedKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return reject()
      return ctx.accept()
    }
    default:
      return reject()
  }
}

function defaultOnExec(command: string, stream: ServerChannel): void {
  stream.write(`ran: ${command}\n`)
  stream.exit(0)
  stream.end()
}

/**
 * ssh2.Server drops every channel request that arrives after the client sent
 * EOF (it marks the session `_ending`), so a client that closed stdin could
 * never signal the command. OpenSSH accepts such signals; do the same here by
 * letting 'signal' requests through. Relies on ssh2 1.x internals and fails
 * loudly if they change.
 */
function acceptSignalsAfterEof(conn: Connection): void {
  type RequestHandler = (p: unknown, recipient: number, type: string, wantReply: boolean, data: unknown) => void
  const internals = conn as unknown as {
    _protocol?: { _handlers?: { CHANNEL_REQUEST?: RequestHandler } }
    _chanMgr?: { get(id: number): unknown }
  }
  const handlers = internals._protocol?._handlers
  const original = handlers?.CHANNEL_REQUEST
  const channels = internals._chanMgr
  if (!handlers || !original || !channels) throw new Error('ssh2 internals changed: cannot patch CHANNEL_REQUEST')
  handlers.CHANNEL_REQUEST = (p, recipient, type, wantReply, data) => {
    const session = channels.get(recipient) as { _ending?: boolean } | undefined
    if (type !== 'signal' || !session?._ending) return original(p, recipient, type, wantReply, data)
    session._ending = false
    try {
      original(p, recipient, type, wantReply, data)
    } finally {
      session._ending = true
    }
  }
}

/** The run token the session puts ahead of every command (`SSH_FANOUT_RUN='<32 hex>'` and its export), as sent. */
export const RUN_TOKEN_PREFIX = /^SSH_FANOUT_RUN='([0-9a-f]{32})'\nexport SSH_FANOUT_RUN\n/

/** The command as the user wrote it: without the run token the session puts ahead of it. */
export function withoutRunToken(command: string): string {
  return command.replace(RUN_TOKEN_PREFIX, '')
}

function setUpSessions(conn: Connection, commands: string[], onExec: NonNullable<FakeServerOptions['onExec']>): void {
  conn.on('session', (acceptSession) => {
    const session = acceptSession()
    const signals: string[] = []
    const signalListeners: Array<(name: string) => void> = []
    const env: Record<string, string> = {}
    // 'env' and 'signal' requests usually have want-reply false: accept/reject are then undefined
    session.on('env', (accept, _reject, info) => {
      env[info.key] = info.val
      accept?.()
    })
    session.on('signal', (accept, _reject, info) => {
      signals.push(info.name)
      accept?.()
      for (const l of signalListeners) l(info.name)
    })
    session.on('exec', (accept, _reject, info) => {
      const command = withoutRunToken(info.command)
      commands.push(command)
      const stream = accept()
      onExec(command, stream, { signals, env, onSignal: (l) => void signalListeners.push(l) })
    })
  })
}

export async function startFakeServer(opts: FakeServerOptions = {}): Promise<FakeServer> {
  const host = opts.host ?? '127.0.0.1'
  const hostKeyText = opts.hostKey ?? getDefaultHostKey()
  const hostKey = parseKeyOrThrow(hostKeyText, 'FakeServerOptions.hostKey')
  const allowedKey = opts.auth?.publicKey !== undefined ? parseKeyOrThrow(opts.auth.publicKey, 'FakeServerOptions.auth.publicKey') : undefined
  const commands: string[] = []
  const sockets = new Set<net.Socket>()
  const onExec = opts.onExec ?? defaultOnExec

  let sshServer: ssh2.Server | undefined
  if (opts.stall !== 'banner' && opts.stall !== 'handshake') {
    sshServer = new ssh2.Server({ hostKeys: [hostKeyText] }, (conn) => {
      // a client vanishing mid-handshake must not crash the test process
      conn.on('error', () => {})
      acceptSignalsAfterEof(conn)
      conn.on('authentication', (ctx) => {
        if (opts.stall === 'auth') return // never answer
        handleAuth(ctx, opts.auth, allowedKey)
      })
      setUpSessions(conn, commands, onExec)
    })
  }

  const fake = {
    host,
    port: 0,
    hostKeyPublic: { type: hostKey.type, fingerprint: fingerprintOf(hostKey.getPublicSSH()), knownHostsLine: '' },
    commands,
    connections: 0,
    close: (): Promise<void> =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  } satisfies FakeServer

  const listener = net.createServer((socket) => {
    fake.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    switch (opts.stall) {
      case 'banner':
        return // tarpit: accept, never write (incoming data is buffered, then TCP backpressure)
      case 'handshake':
        socket.write('SSH-2.0-FakeStall_1.0\r\n')
        socket.resume() // swallow the client's identification and KEXINIT, answer nothing
        return
      default:
        sshServer!.injectSocket(socket)
    }
  })

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject)
    listener.listen(0, host, () => {
      listener.off('error', reject)
      resolve()
    })
  })
  fake.port = (listener.address() as net.AddressInfo).port
  const name = fake.port === 22 ? host : `[${host}]:${fake.port}`
  fake.hostKeyPublic.knownHostsLine = `${name} ${hostKey.type} ${hostKey.getPublicSSH().toString('base64')}`
  return fake
}
