/**
 * A host entry of an inventory (`web[01:03].example.com:2222`, `[2001:db8::1]:22`) into its names and port,
 * as ansible-core's `_expand_hostpattern` reads it: `parse_address(allow_ranges=True)` splits off the port
 * when what is left is an IPv4 address, an IPv6 address or a host name (ranges allowed); when it is none
 * of them the entry, port and all, is taken as the name. Then ranges are expanded.
 */
import { parseAddress } from './addresses.js'
import { expandHostnameRange } from './ranges.js'

export interface HostPattern {
  names: string[]
  /** The port written after the name; ansible-core ignores 0. */
  port?: number
}

/** The host names and port an inventory host entry stands for; at most `limit` names. Throws a plain Error. */
export function expandHostPattern(entry: string, limit: number): HostPattern {
  const parsed = parseAddress(entry)
  const pattern = parsed?.host ?? entry
  const names = pattern.includes('[') ? expandHostnameRange(pattern, limit) : [pattern]
  return parsed?.port === undefined ? { names } : { names, port: parsed.port }
}
