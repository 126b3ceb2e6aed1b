/** One bastion, `[user@]host[:port]` (the jump-host input, an inventory's ProxyJump): its own user, else the default. */
import { quote } from '../parse.js'
import type { HostTarget } from '../model.js'
import { parseHosts, resolveTargets, TargetError } from './hosts.js'

const JUMP_HOST_FORM = 'write [user@]host[:port] of one bastion, e.g. deploy@bastion.example.com:2222'

/** One `[user@]host[:port]`: its own user, else the username input; port 22 unless given (as `ssh -J`). */
export function parseJumpHost(text: string, username: string): HostTarget {
  let entries
  try {
    entries = parseHosts(text)
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${JUMP_HOST_FORM}`, { cause: err })
  }
  if (entries.length !== 1) throw new Error(`${quote(text)} names ${entries.length} hosts; ${JUMP_HOST_FORM}`)
  try {
    return resolveTargets(entries, { username, port: 22 })[0]
  } catch (err) {
    if (err instanceof TargetError && err.reason === 'missing-username')
      throw new Error(`${quote(text)} has no user; ${JUMP_HOST_FORM}, or set the username input`, { cause: err })
    throw err
  }
}
