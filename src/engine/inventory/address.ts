/**
 * A host entry of an inventory (`web[01:03].example.com:2222`, `[2001:db8::1]:22`) into its names and port,
 * as ansible-core's `_expand_hostpattern` reads it: `parse_address(allow_ranges=True)` splits off the port
 * when what is left is an IPv4 address, an IPv6 address or a host name (ranges allowed); when it is none
 * of them the entry, port and all, is taken as the name. Then ranges are expanded.
 */
import { expandHostnameRange } from './ranges.js'

// ansible-core's regexes (lib/ansible/parsing/utils/addresses.py); Python's Unicode \w is [\p{L}\p{N}_].
const W = String.raw`[\p{L}\p{N}_]`
const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
const IPV4_PART = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`
const IPV6_PART = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`
const LABEL = String.raw`(?:${W}|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/u
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/u
const IPV4 = new RegExp(String.raw`^(?:${IPV4_PART}\.){3}${IPV4_PART}$`, 'i')
const HOSTNAME = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu')
/**
 * In ansible-core's pattern `^` belongs to the first alternative and `$` to the last only, and re.match
 * anchors the start: so most alternatives need only match a prefix. Kept as it is, for the same answers.
 */
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${IPV6_PART}:){7}${IPV6_PART}`,
      `(?:${IPV6_PART}:){1,6}:`,
      `(?:${IPV6_PART}:)(?::${IPV6_PART}){1,6}`,
      `(?:${IPV6_PART}:){2}(?::${IPV6_PART}){1,5}`,
      `(?:${IPV6_PART}:){3}(?::${IPV6_PART}){1,4}`,
      `(?:${IPV6_PART}:){4}(?::${IPV6_PART}){1,3}`,
      `(?:${IPV6_PART}:){5}(?::${IPV6_PART}){1,2}`,
      `(?:${IPV6_PART}:){6}(?::${IPV6_PART})`,
      `:(?::${IPV6_PART}){1,6}`,
      `${IPV6_PART}?::`,
      String.raw`(?:0:){6}(?:${IPV6_PART}\.){3}${IPV6_PART}`,
      String.raw`::(?:ffff:)?(?:${IPV6_PART}\.){3}${IPV6_PART}`,
      String.raw`(?:0:){5}ffff:(?:${IPV6_PART}\.){3}${IPV6_PART}$`,
    ].join('|') +
    ')',
  'i',
)

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

/** ansible-core's parse_address with ranges allowed; null where it raises. */
function parseAddress(entry: string): { host: string; port?: number } | null {
  let address = entry
  let port: number | undefined
  // Both are tried, in turn (ansible-core's loop goes on after a match).
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(address)
    if (m !== null) {
      address = m[1]
      port = Number(m[2])
    }
  }
  if (!IPV4.test(address) && !IPV6.test(address) && !HOSTNAME.test(address)) return null
  return port === undefined ? { host: address } : { host: address, port }
}
