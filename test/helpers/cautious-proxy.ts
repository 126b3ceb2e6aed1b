/**
 * A Cisco-like SSH server in front of a real one, for the first flight's fallback (patches/ssh2,
 * `kexGuess`): its banner comes late, and it hangs up on a KEXINIT that says a guessed packet follows.
 */
import { connect, createServer, type Socket } from 'node:net'

/** Where the first packet after the identification line says whether a guessed packet follows (KEXINIT's boolean), once whole. */
function guessFlag(afterIdent: Buffer): boolean | null {
  if (afterIdent.length < 5) return null
  const end = 4 + afterIdent.readUInt32BE(0)
  if (afterIdent.length < end) return null
  let p = 4 + 1 + 1 + 16 // packet length, padding length, KEXINIT, cookie
  for (let i = 0; i < 10; i++) p += 4 + afterIdent.readUInt32BE(p)
  return afterIdent[p] === 1
}

/**
 * A Cisco-like server in front of `upstream`: its banner comes late (only once the client's
 * identification arrived), and it hangs up on a KEXINIT that says a guessed packet follows.
 */
export async function cautiousProxy(upstreamPort: number, upstreamHost = '127.0.0.1') {
  const sockets = new Set<Socket>()
  const guesses: boolean[] = []
  const server = createServer((client) => {
    sockets.add(client.on('error', () => undefined).on('close', () => sockets.delete(client)))
    let buffered = Buffer.alloc(0)
    let upstream: Socket | null = null
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      if (!upstream) {
        const identEnd = buffered.indexOf('\n')
        if (identEnd < 0) return
        // The client's identification arrived: only now does the server's banner come.
        upstream = connect(upstreamPort, upstreamHost)
        sockets.add(upstream.on('error', () => client.destroy()).on('close', () => client.destroy()))
        upstream.pipe(client)
        upstream.write(buffered.subarray(0, identEnd + 1))
        buffered = buffered.subarray(identEnd + 1)
      }
      const flag = guessFlag(buffered)
      if (flag === null) return // the KEXINIT is not whole yet
      guesses.push(flag)
      if (flag) return void client.destroy()
      client.off('data', onData)
      upstream.write(buffered)
      client.pipe(upstream)
    }
    client.on('data', onData)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    guesses,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}
