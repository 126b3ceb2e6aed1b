/**
 * A host pattern cut into terms and put in the order Ansible applies them (ansible-core
 * inventory/manager.py split_host_pattern and order_patterns, parsing/utils/addresses.py).
 *
 * A comma anywhere: split on commas only. Otherwise, when the whole pattern reads as one
 * address (parse_address with ranges: a host name, IPv4 or IPv6 address, with `[x:y]` ranges
 * and an optional `:port`), it is one term; else it is cut at `:` and whitespace, a `[...]`
 * kept whole. So `web:db` is two terms and `db[1:3]` one, but also `web:80` one (host `web`,
 * port 80, as Ansible reads it) — commas avoid all that.
 */
import { PY_SPACE } from './regex.js'

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

/** parse_address(text, allow_ranges=True) succeeds: the text is one host, maybe with ranges and a port. */
export function isAddress(text: string): boolean {
  let address = text
  // Both port forms are tried in turn, the second on what the first left (as addresses.py does).
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(address)
    if (m) address = m[1]!
  }
  return [IPV4, IPV6, HOSTNAME].some((re) => re.test(address))
}

const SPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu')
const TERM = new RegExp(`(?:[^${PY_SPACE}:\\[\\]]|\\[[^\\]]*\\])+`, 'gu')

/** Python's str.strip(). */
export const pyStrip = (s: string): string => s.replace(SPACE, '')

/** split_host_pattern: the terms, stripped, empty ones dropped. */
export function splitHostPattern(pattern: string): string[] {
  let terms: string[]
  if (pattern.includes(',')) terms = pattern.split(',')
  else if (isAddress(pattern)) terms = [pattern]
  else terms = pattern.match(TERM) ?? []
  return terms.map(pyStrip).filter((t) => t !== '')
}

/**
 * order_patterns: unions first, then every `&term`, then every `!term`, each kind in the order
 * written; with no union at all, the union is `all`.
 */
export function orderPatterns(terms: string[]): string[] {
  const union = terms.filter((t) => t !== '' && t[0] !== '&' && t[0] !== '!')
  const and = terms.filter((t) => t[0] === '&')
  const not = terms.filter((t) => t[0] === '!')
  return [...(union.length > 0 ? union : ['all']), ...and, ...not]
}
