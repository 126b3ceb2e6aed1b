/**
 * ansible-core's address parsing (lib/ansible/parsing/utils/addresses.py, parse_address with
 * ranges allowed): a host name, an IPv4 or IPv6 address, with `[x:y]` ranges and an optional
 * `:port`. Used for inventory host entries (address.ts) and host patterns (split.ts).
 */
// Python's `$` (no MULTILINE) also matches before a final newline.
const END = '(?=\\n?(?![^]))'

const numericRange = '\\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\\]'
const hexRange = '\\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\\]'
const alnumRange = '\\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\\]'
const v6 = `(?:[0-9a-f]{1,4}|${hexRange})`
const v4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${numericRange})`
const label = `(?:[\\p{L}\\p{N}_]|${alnumRange})(?:[\\p{L}\\p{N}_-]|${alnumRange})*(?<![_-])`

const BRACKETED_HOSTPORT = new RegExp(`^\\[([^\\n]+)\\]:([0-9]+)${END}`, 'u')
const HOSTPORT = new RegExp(`^((?:[^:\\[\\]]|\\[[^\\]]*\\])*):([0-9]+)${END}`, 'u')
const IPV4 = new RegExp(`^(?:${v4}\\.){3}${v4}${END}`, 'iu')
const HOSTNAME = new RegExp(`^${label}(?:\\.${label})*${END}`, 'iu')
// As written in addresses.py, `$` binds to the last alternative only: the others need only
// match at the start. Kept so, to cut patterns exactly where Ansible does.
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${v6}:){7}${v6}`,
      `(?:${v6}:){1,6}:`,
      `(?:${v6}:)(?::${v6}){1,6}`,
      `(?:${v6}:){2}(?::${v6}){1,5}`,
      `(?:${v6}:){3}(?::${v6}){1,4}`,
      `(?:${v6}:){4}(?::${v6}){1,3}`,
      `(?:${v6}:){5}(?::${v6}){1,2}`,
      `(?:${v6}:){6}(?::${v6})`,
      `:(?::${v6}){1,6}`,
      `${v6}?::`,
      `(?:0:){6}(?:${v6}\\.){3}${v6}`,
      `::(?:ffff:)?(?:${v6}\\.){3}${v6}`,
      `(?:0:){5}ffff:(?:${v6}\\.){3}${v6}${END}`,
    ].join('|') +
    ')',
  'iu',
)

/** parse_address(text, allow_ranges=True): the host and the port, or null where ansible-core raises. */
export function parseAddress(text: string): { host: string; port?: number } | null {
  let address = text
  let port: number | undefined
  // Both port forms are tried in turn, the second on what the first left (as addresses.py does).
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(address)
    if (m) {
      address = m[1]!
      port = Number(m[2])
    }
  }
  if (![IPV4, IPV6, HOSTNAME].some((re) => re.test(address))) return null
  return port === undefined ? { host: address } : { host: address, port }
}
