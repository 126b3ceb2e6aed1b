/** The bench's latency proxy keeps bytes in order, forwards half-closes, and counts round trips. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { roundTrips, startProxies } from './latency-proxy.js'

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

/** Resolves with the next `n` bytes the socket receives. */
function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let got = 0
    const onData = (d: Buffer) => {
      chunks.push(d)
      got += d.length
      if (got >= n) {
        socket.off('data', onData)
        resolve(Buffer.concat(chunks))
      }
    }
    socket.on('data', onData)
  })
}

for (const rttMs of [0, 20]) {
  test(`rtt ${rttMs}: 4 MB written in 4000 chunks arrive in order, then the half-close`, async () => {
    // Upstream echoes everything and ends when the client ends.
    const echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s))
    const proxies = await startProxies(['127.1.200.1'], [{ host: '127.0.0.1', port: await listen(echo) }], rttMs)
    try {
      const client = connect({ host: '127.1.200.1', port: proxies.listeners[0].port, allowHalfOpen: true })
      const sent = Buffer.concat(Array.from({ length: 4000 }, (_, i) => Buffer.alloc(1000, i % 251)))
      const received: Buffer[] = []
      client.on('data', (d: Buffer) => received.push(d))
      for (let i = 0; i < 4000; i++) client.write(sent.subarray(i * 1000, (i + 1) * 1000))
      client.end()
      await once(client, 'end')
      assert.ok(Buffer.concat(received).equals(sent))
      assert.equal(proxies.connections.length, 1)
      client.destroy()
    } finally {
      await proxies.close()
      echo.close()
    }
  })
}

test('three request/reply exchanges count as three round trips; a client close after the last reply does not', async () => {
  const server = createServer((s) => s.on('data', (d: Buffer) => d.toString() !== 'bye' && s.write(d)))
  const proxies = await startProxies(['127.1.200.2'], [{ host: '127.0.0.1', port: await listen(server) }], 10)
  try {
    const client = connect({ host: '127.1.200.2', port: proxies.listeners[0].port })
    await once(client, 'connect')
    for (const msg of ['one', 'two', 'six']) {
      const reply = readBytes(client, 3)
      client.write(msg)
      assert.equal((await reply).toString(), msg)
    }
    client.end('bye')
    await once(client, 'close')
    const [conn] = proxies.connections
    assert.deepEqual(
      conn.flights.map((f) => f.dir),
      ['c', 's', 'c', 's', 'c', 's', 'c'],
    )
    assert.equal(roundTrips(conn), 3)
  } finally {
    await proxies.close()
    server.close()
  }
})
