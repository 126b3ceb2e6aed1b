/**
 * Preloaded (`node --import`) into every contender of `npm run bench -- --startup`: writes
 * `first-connect <ms since the epoch>` to stderr when the process makes its first TCP client
 * socket (Node's `net.client.socket` diagnostics channel), so the bench can time spawn to the
 * first connection attempt from inside the process, without a server to accept it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'

const onSocket = (): void => {
  unsubscribe('net.client.socket', onSocket)
  process.stderr.write(`first-connect ${performance.timeOrigin + performance.now()}\n`)
}
subscribe('net.client.socket', onSocket)
