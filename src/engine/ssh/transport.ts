/**
 * How a host's byte stream is obtained: a TCP connection of our own (DirectTransport), or a
 * direct-tcpip channel through ONE shared SSH session to a bastion (JumpTransport in jump.ts, as
 * `ssh -J`). The session is given a transport and runs SSH over whatever stream it returns.
 */
import { connect as tcpConnect, type LookupFunction, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { RETRYABLE_KINDS, type ErrorKind, type HostTarget } from '../model.js'

/** A failure to obtain a stream, classified as a session error would be. */
export class TransportError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message)
    this.name = 'TransportError'
  }
}

/** An open stream to a host's SSH server. */
export interface Link {
  stream: Duplex
  /** Why the stream was cut, when the transport knows better than the stream (the bastion went away). */
  lostReason(): string | null
}

export interface Transport {
  /**
   * Resolves when streams can be opened (the bastion session is up). Time spent here is not part
   * of a host's connect-timeout. Rejects with a TransportError naming the bastion when it cannot be had.
   */
  ready(): Promise<void>
  /** A stream to the target's SSH server. Aborting `signal` gives up and destroys what was opened. */
  open(target: HostTarget, signal: AbortSignal): Promise<Link>
  /** Releases what the transport holds (the bastion session, pending retries). */
  close(): void
  /** Set once no stream can be had any more (the bastion is unavailable): every host not yet started fails with it. */
  readonly failed?: TransportError | null
}

export function socketError(err: NodeJS.ErrnoException): TransportError {
  const [kind, message] = classifySocketError(err)
  return new TransportError(kind, message, kind === 'dns' ? err.code === 'EAI_AGAIN' : RETRYABLE_KINDS.has(kind))
}

export function classifySocketError(err: NodeJS.ErrnoException): [ErrorKind, string] {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return ['dns', `dns: the host name could not be resolved (${err.code})`]
    case 'EAI_AGAIN':
      return ['dns', `dns: temporary failure resolving the host name (${err.code})`]
    case 'ECONNREFUSED':
      return ['refused', 'refused: nothing accepts connections on that port (ECONNREFUSED)']
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return ['unreachable', `unreachable: no route to the host (${err.code})`]
    case 'ECONNRESET':
    case 'EPIPE':
      return ['connection lost', `connection lost: reset by the host (${err.code})`]
    default:
      return ['connection lost', `connection lost: ${err.message}`]
  }
}

/** Our own TCP connection to each host (TCP_NODELAY on: SSH's small packets must not wait). */
export class DirectTransport implements Transport {
  constructor(private readonly lookup?: LookupFunction) {}

  ready(): Promise<void> {
    return Promise.resolve()
  }

  open(target: HostTarget, signal: AbortSignal): Promise<Link> {
    return tcpOpen(target, signal, this.lookup)
  }

  close(): void {}
}

export function tcpOpen(target: HostTarget, signal: AbortSignal, lookup?: LookupFunction): Promise<Link> {
  return new Promise((resolve, reject) => {
    const socket: Socket = tcpConnect({ host: target.host, port: target.port, noDelay: true, ...(lookup ? { lookup } : {}) })
    const onAbort = () => {
      socket.destroy()
      reject(new TransportError('cancelled', 'cancelled', false))
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort)
      reject(socketError(err))
    })
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort)
      // From here on ssh2 reports socket errors; this keeps one in the gap from becoming uncaught.
      socket.on('error', () => undefined)
      coalesceWrites(socket)
      resolve({ stream: socket, lostReason: () => null })
    })
  })
}

/**
 * Writes made in one turn of the event loop leave in one system call (cork, then uncork on the next
 * tick): ssh2 writes each packet on its own, and with TCP_NODELAY on each would be its own segment.
 * A flight (identification, KEXINIT and the guessed init; NEWKEYS, service request, signed request
 * and channel open) leaves at once, as before, at a fraction of the CPU.
 */
export function coalesceWrites(socket: Socket): void {
  let corked = false
  const uncork = () => {
    corked = false
    socket.uncork()
  }
  const write = socket.write.bind(socket)
  socket.write = function (...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true
      socket.cork()
      process.nextTick(uncork)
    }
    return write(...args)
  } as Socket['write']
}
