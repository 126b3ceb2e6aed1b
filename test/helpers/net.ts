/** Small loopback helpers shared by the fault tests, the demo and the bench. */
import { readFileSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'

/** A TCP server that accepts connections and never sends a byte (a tarpit). */
export async function tarpit(host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const sockets: Socket[] = []
  const server = createServer((s) => void sockets.push(s.on('error', () => undefined)))
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A port on `host` where nothing listens (connections are refused). */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const t = await tarpit(host)
  await t.close()
  return t.port
}

/** True when the process is gone, or a zombie (PID 1 here does not always reap orphans). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return true
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

export interface TcpProxy {
  host: string
  port: number
  /** Connections accepted so far. */
  readonly accepted: number
  /** Destroys every open connection, both sides, without closing the listener (a network cut). */
  cut(): void
  close(): Promise<void>
}

type Upstream = { host: string; port: number }

/**
 * Listens on `host` (a free port unless `port` is given) and pipes every connection to `to`, or to
 * `to(n)` for the n-th connection (1-based): e.g. a host whose server is swapped after its first connection.
 */
export async function tcpProxy(to: Upstream | ((n: number) => Upstream), host = '127.0.0.1', port = 0): Promise<TcpProxy> {
  const open = new Set<Socket>()
  let accepted = 0
  const server = createServer((client) => {
    accepted += 1
    const dest = typeof to === 'function' ? to(accepted) : to
    const upstream = connect({ host: dest.host, port: dest.port })
    for (const s of [client, upstream]) {
      open.add(s)
      s.on('error', () => undefined).on('close', () => {
        open.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve))
  return {
    host,
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted
    },
    cut: () => {
      for (const s of open) s.destroy()
    },
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
