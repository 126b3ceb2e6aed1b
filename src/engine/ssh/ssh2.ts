/**
 * The parts of ssh2 the action uses, loaded from its own files: ssh2's index also loads its
 * server, key generator and HTTP agents (and with them node:http, node:https and node:tls),
 * which start-up would compile for nothing. Types are ssh2's (src/engine/ssh2-lib.d.ts).
 *
 * ssh2 must carry patches/ssh2+1.17.0.patch (the short login's `earlyAuth` and `skipQuery`):
 * plain ssh2 ignores those options without a word, so an unpatched copy is refused here, loudly.
 */
import ClientClass from 'ssh2/lib/client.js'
import keyParser from 'ssh2/lib/protocol/keyParser.js'
import constants from 'ssh2/lib/protocol/constants.js'

if ((ClientClass as unknown as { sshFanoutPatched?: unknown }).sshFanoutPatched !== true) {
  throw new Error(
    'ssh2 is loaded without patches/ssh2+1.17.0.patch (its marker Client.sshFanoutPatched is missing): run `npx patch-package` after `npm ci`, which skips install scripts',
  )
}

export const Client = ClientClass
export const parseKey = keyParser.parseKey
/** The key exchange methods ssh2 offers by default, in its order. */
export const DEFAULT_KEX: readonly string[] = constants.DEFAULT_KEX
