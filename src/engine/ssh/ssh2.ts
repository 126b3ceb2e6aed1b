/**
 * The parts of ssh2 the action uses, loaded from its own files: ssh2's index also loads its
 * server, key generator and HTTP agents (and with them node:http, node:https and node:tls),
 * which start-up would compile for nothing. Types are ssh2's (src/engine/ssh2-lib.d.ts).
 */
import ClientClass from 'ssh2/lib/client.js'
import keyParser from 'ssh2/lib/protocol/keyParser.js'

export const Client = ClientClass
export const parseKey = keyParser.parseKey
