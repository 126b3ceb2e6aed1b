/** Small loopback helpers shared by the fault tests, the demo and the bench. */
import { readFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'

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
