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
import { parseAddress } from './addresses.js'

/** parse_address(text, allow_ranges=True) succeeds: the text is one host, maybe with ranges and a port. */
export function isAddress(text: string): boolean {
  return parseAddress(text) !== null
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
