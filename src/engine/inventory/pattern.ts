/**
 * Selecting hosts with an Ansible host pattern, as ansible-core's InventoryManager does
 * (get_hosts -> _evaluate_patterns -> _match_one_pattern -> _enumerate_matches):
 *
 *  - terms in order_patterns order: unions, then `&`, then `!` (split.ts);
 *  - a term that is exactly a host's name is that host (checked first, so a name that is both a
 *    host and a group means the host here, but the group after `&` or `!`, as in Ansible);
 *  - otherwise the term (without `&`/`!` and its `[i]` / `[i:j]` subscript) is matched against
 *    every group name, `all` and `ungrouped` included, then against host names too when no group
 *    matched or it is a `~regex` or holds one of `. ? * [`. `~regex` is Python's re.match
 *    (regex.ts), anything else fnmatch (glob.ts): a plain name matches itself only;
 *  - the subscript picks from that term's matches (duplicates included, as in Ansible);
 *  - a host appears once, where first selected.
 *
 * Not as Ansible: a `localhost` / `127.0.0.1` / `::1` term that the inventory lacks does not
 * create Ansible's implicit local host (it runs without SSH); it matches nothing.
 */
import { globRegExp } from './glob.js'
import { groupHosts } from './order.js'
import { pythonRegExp } from './regex.js'
import { orderPatterns, splitHostPattern } from './split.js'
import { quote } from '../parse.js'
import { InventoryError, type Inventory } from './types.js'

export type TermOp = 'union' | 'and' | 'not'

/** One term of the pattern and what it matched, for batch-by: group. */
export interface Term {
  /** As written, with its `&` / `!`. */
  text: string
  op: TermOp
  /** The term named a host exactly. */
  host?: string
  /** Group names it matched, in inventory order. */
  groups: string[]
  /** Host names it matched by name (not through a group), in inventory order. */
  hostNames: string[]
  /** Its hosts in Ansible's order, after the subscript. */
  hosts: string[]
}

export interface Selection {
  hosts: string[]
  terms: Term[]
  /** What Ansible says as a warning: terms that matched nothing, the old `[x-y]` subscript. */
  warnings: string[]
}

// ansible-core PATTERN_WITH_SUBSCRIPT: `expr[i]`, `expr[i:j]`, `expr[i:]`, `expr[i-j]`.
const SUBSCRIPT = /^([^\n]+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/u
const LOCALHOST = new Set(['localhost', '127.0.0.1', '::1'])

function matcher(expr: string): RegExp {
  if (expr.startsWith('~')) return pythonRegExp(expr.slice(1))
  try {
    return globRegExp(expr)
  } catch {
    throw new InventoryError(`host pattern ${quote(expr)} is not a valid wildcard pattern`)
  }
}

/** _apply_subscript: Python indexing and slicing; one index out of range is an error. */
function applySubscript(hosts: string[], text: string, start: number, end: number | undefined): string[] {
  if (hosts.length === 0) return hosts
  if (end !== undefined && end !== 0) return hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1)
  const i = start < 0 ? hosts.length + start : start
  if (i < 0 || i >= hosts.length) {
    throw new InventoryError(
      `no host matches the subscripted host pattern ${quote(text)}: it has ${hosts.length} host${hosts.length === 1 ? '' : 's'}, so the index must be from 0 to ${hosts.length - 1} (or -${hosts.length} to -1)`,
    )
  }
  return [hosts[i]]
}

/** _match_one_pattern: the term's groups, hosts and resulting host list (with duplicates). */
function matchOne(inv: Inventory, text: string, body: string, warnings: string[]): Omit<Term, 'text' | 'op'> {
  if (body === '')
    throw new InventoryError(`host pattern term ${quote(text)} has nothing after the ${text}; write a host or group name after it (e.g. ${text}canary)`)
  let expr = body
  let sub: [number, number | undefined] | undefined
  const m = body.startsWith('~') ? null : SUBSCRIPT.exec(body)
  if (m) {
    expr = m[1]!
    if (m[2] !== undefined) sub = [Number(m[2]), undefined]
    else sub = [Number(m[3]), m[5] === '' ? -1 : Number(m[5])]
    if (m[4] === '-') warnings.push(`host pattern ${quote(text)}: use [x:y] inclusive subscripts instead of [x-y]`)
  }
  const re = matcher(expr)
  const groups = [...inv.groups.keys()].filter((g) => re.test(g))
  const hosts = groups.flatMap((g) => groupHosts(inv, g))
  let hostNames: string[] = []
  if (groups.length === 0 || expr.startsWith('~') || /[.?*[]/.test(expr)) {
    hostNames = [...inv.hosts.keys()].filter((h) => re.test(h))
    hosts.push(...hostNames)
  }
  if (hosts.length === 0 && groups.length === 0 && expr !== 'all') {
    const local = LOCALHOST.has(expr) ? " (Ansible's implicit localhost is not used here: list the host in the inventory)" : ''
    warnings.push(`host pattern term ${quote(body)} matches no group or host; it is ignored${local}`)
  }
  return { groups, hostNames, hosts: sub ? applySubscript(hosts, body, sub[0], sub[1]) : hosts }
}

/** Evaluates the pattern; an empty result is not an error here (see selectHosts). */
export function evaluatePattern(inv: Inventory, pattern: string): Selection {
  // The selected hosts in order, each once (a Set keeps insertion order).
  let selected = new Set<string>()
  const terms: Term[] = []
  const warnings: string[] = []
  for (const text of orderPatterns(splitHostPattern(pattern))) {
    if (inv.hosts.has(text)) {
      terms.push({ text, op: 'union', host: text, groups: [], hostNames: [], hosts: [text] })
      selected.add(text)
      continue
    }
    const op: TermOp = text[0] === '&' ? 'and' : text[0] === '!' ? 'not' : 'union'
    const term: Term = { text, op, ...matchOne(inv, text, op === 'union' ? text : text.slice(1), warnings) }
    terms.push(term)
    if (op === 'union') {
      for (const h of term.hosts) selected.add(h)
    } else {
      const these = new Set(term.hosts)
      selected = new Set([...selected].filter((h) => these.has(h) === (op === 'and')))
    }
  }
  return { hosts: [...selected], terms, warnings }
}

/** The selection, or an error naming the pattern and the inventory's groups when it selects no host. */
export function select(inv: Inventory, pattern: string): Selection {
  const selection = evaluatePattern(inv, pattern)
  if (selection.hosts.length > 0) return selection
  const names = [...inv.groups.keys()].filter((g) => g !== 'all')
  const shown = names.length > 40 ? `${names.slice(0, 40).join(', ')} and ${names.length - 40} more` : names.join(', ')
  const local = splitHostPattern(pattern).some((t) => LOCALHOST.has(t.replace(/^[&!]/, '')) && !inv.hosts.has(t.replace(/^[&!]/, '')))
  throw new InventoryError(
    `host pattern ${quote(pattern)} selects no host of the inventory` +
      (inv.hosts.size === 0 ? ', which has no hosts' : `; its groups are: ${shown || '(none but all)'}`) +
      (local ? ". Ansible's implicit localhost is not used here: list it in the inventory" : ''),
  )
}

/** The host names the pattern selects, in Ansible's order (ansible PATTERN --list-hosts). */
export function selectHosts(inv: Inventory, pattern: string): string[] {
  return select(inv, pattern).hosts
}
