/**
 * Loopback TCP proxies for the bench: one listener per address, each forwarding to an upstream
 * (one of a few sshd), delaying each direction by rttMs / 2 (this kernel has no netem), and
 * recording per connection when the traffic changed direction, to count SSH round trips.
 *
 * Order is preserved: every chunk of a direction waits the same delay, and Node fires timers of
 * equal duration in the order they were set (the end of the stream is queued the same way).
 * The proxy stops reading a side while more than HIGH_WATER bytes of it are queued or unsent.
 * Traffic is counted when the proxy receives it: a client flight at the time the client sent it,
 * a server flight at the time the server sent it (the client gets it rttMs / 2 later).
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

const HIGH_WATER = 1024 * 1024

export interface Flight {
  /** c: client to server, s: server to client */
  dir: 'c' | 's'
  /** ms (Date.now()) when the proxy received the flight's first byte */
  at: number
  bytes: number
}

export interface ProxiedConnection {
  /** the listener's address, e.g. 127.1.0.7 */
  address: string
  acceptedAt: number
  flights: Flight[]
}

export interface ProxyListener {
  address: string
  port: number
  upstream: number
}

export interface Proxies {
  listeners: ProxyListener[]
  /** connections accepted since the last reset() */
  connections: ProxiedConnection[]
  reset(): void
  close(): Promise<void>
}

function record(conn: ProxiedConnection, dir: 'c' | 's', bytes: number): void {
  const last = conn.flights[conn.flights.length - 1]
  if (last?.dir === dir) last.bytes += bytes
  else conn.flights.push({ dir, at: Date.now(), bytes })
}

/** Copies src to dst `delayMs` later, in order, with back-pressure. */
function forward(src: Socket, dst: Socket, delayMs: number, onData: (bytes: number) => void): void {
  let queued = 0
  const resumeWhenDrained = () => {
    if (queued > HIGH_WATER || !src.isPaused()) return
    if (dst.writableLength > HIGH_WATER) dst.once('drain', resumeWhenDrained)
    else src.resume()
  }
  src.on('data', (chunk: Buffer) => {
    onData(chunk.length)
    if (delayMs === 0) {
      if (!dst.write(chunk)) {
        src.pause()
        dst.once('drain', () => src.resume())
      }
      return
    }
    queued += chunk.length
    if (queued > HIGH_WATER) src.pause()
    setTimeout(() => {
      queued -= chunk.length
      if (!dst.destroyed) dst.write(chunk)
      resumeWhenDrained()
    }, delayMs)
  })
  src.on('end', () => (delayMs === 0 ? dst.end() : setTimeout(() => dst.end(), delayMs)))
  src.on('error', () => dst.destroy())
  src.on('close', (hadError) => hadError && dst.destroy())
}

/**
 * Listens on port 0 of every address; connection i to listener k goes to upstreams[k % n].
 * `rttMs` is added per round trip (rttMs / 2 each way).
 */
export async function startProxies(addresses: string[], upstreams: Array<{ host: string; port: number }>, rttMs: number): Promise<Proxies> {
  let connections: ProxiedConnection[] = []
  const sockets = new Set<Socket>()
  const half = rttMs / 2
  const servers: Server[] = []
  const listeners: ProxyListener[] = []
  const listen = async (address: string, index: number) => {
    const upstream = index % upstreams.length
    const target = upstreams[upstream]
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
      const conn: ProxiedConnection = { address, acceptedAt: Date.now(), flights: [] }
      connections.push(conn)
      const server = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true })
      for (const s of [client, server]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
      }
      forward(client, server, half, (n) => record(conn, 'c', n))
      forward(server, client, half, (n) => record(conn, 's', n))
    })
    servers.push(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: address, port: 0, backlog: 4096 }, () => resolve())
    })
    listeners[index] = { address, port: (server.address() as { port: number }).port, upstream }
  }
  try {
    // Batches keep the number of pending listen() calls small.
    for (let i = 0; i < addresses.length; i += 500) {
      await Promise.all(addresses.slice(i, i + 500).map((a, j) => listen(a, i + j)))
    }
  } catch (err) {
    for (const s of servers) s.close()
    throw err
  }
  return {
    listeners,
    get connections() {
      return connections
    },
    reset: () => void (connections = []),
    close: async () => {
      for (const s of sockets) s.destroy()
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    },
  }
}

/**
 * Round trips the client waited for before the command's result reached it: the client flights
 * answered by a server flight, up to the last server flight (which carries the command's output
 * and exit status for a short command; the client's closing flight after it gets no answer).
 * Flights that cross (both sides speaking at once, as at the start) count too, so with
 * rttMs > 0 also see roundTripsByTime().
 */
export function roundTrips(conn: ProxiedConnection): number {
  const lastServer = conn.flights.map((f) => f.dir).lastIndexOf('s')
  let n = 0
  for (let i = 1; i <= lastServer; i++) if (conn.flights[i].dir === 's' && conn.flights[i - 1].dir === 'c') n++
  return n
}

/** (when the last server flight reached the client − accept) / rttMs: round trips as the latency sees them. */
export function roundTripsByTime(conn: ProxiedConnection, rttMs: number): number {
  const last = [...conn.flights].reverse().find((f) => f.dir === 's')
  if (!last || rttMs <= 0) return NaN
  return (last.at + rttMs / 2 - conn.acceptedAt) / rttMs
}

/**
 * Round trips the client waited for, counted as its bursts of traffic: with a delay much longer
 * than either side's processing, each answer from the server starts a new burst (one the client
 * had to wait for), and everything the client sends without waiting falls in the same burst.
 * A burst starts when the client speaks after more than `gapMs` of silence from it (use about a
 * quarter of the round trip). The client's first burst (its identification) and the one after the
 * server's identification, which crosses the server's key exchange offer, both count; bursts after
 * the server's last flight (the client closing) do not.
 */
export function clientBursts(conn: ProxiedConnection, gapMs: number): number {
  const lastServer = [...conn.flights].reverse().find((f) => f.dir === 's')
  if (!lastServer) return 0
  let bursts = 0
  let previous = -Infinity
  for (const f of conn.flights) {
    if (f.dir !== 'c' || f.at > lastServer.at) continue
    if (f.at - previous > gapMs) bursts++
    previous = f.at
  }
  return bursts
}
