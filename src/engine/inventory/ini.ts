/**
 * Ansible's INI inventory, as ansible-core's plugins/inventory/ini.py reads it. Lines before any section
 * are hosts of `ungrouped`; `[group]` lists hosts (`name[:port] [key=value ...]`, split as Python's shlex
 * does, `#` starting a comment), `[group:vars]` one `key=value` a line, `[group:children]` group names.
 * Values, inline or in `:vars`, go through Python's literal_eval as ansible-core's do (`23` a number,
 * `True` a boolean, `'x'` a string), else stay text. A `[g:vars]` or a child named before its group is
 * declared is fine; one never declared is an error at the end. Lines starting with `#` or `;` are comments.
 */
import { quote } from '../parse.js'
import { expandHostPattern } from './address.js'
import { BuildError, InventoryBuilder, MAX_INVENTORY_HOSTS } from './builder.js'
import { parseIniValue } from './py-literal.js'
import { shlexSplit } from './shlex.js'
import { InventoryError, type Inventory } from './types.js'

/** An INI inventory's error, with the line it is about (parse.ts weighs it against a YAML reading). */
export class IniError extends InventoryError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message)
  }
}

// ini.py's patterns; Python's \s and \w are Unicode.
const SECTION = /^\[([^:\]\s]+)(?::([\p{L}\p{N}_]+))?\]\s*(?:#.*)?$/u
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/u
/** Python's str.splitlines() breaks. */
// eslint-disable-next-line no-control-regex -- Python splits lines at these control characters too
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/
/** Python's str.strip() whitespace. */
const PY_SPACE = String.raw`[\s\x1c-\x1f\x85]`
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'gu')

type State = 'hosts' | 'vars' | 'children'
interface Pending {
  line: number
  state: 'vars' | 'children'
  parents: string[]
}

export function parseIni(text: string, source: string): Inventory {
  const inv = new InventoryBuilder()
  const pending = new Map<string, Pending>()
  let group = 'ungrouped'
  let state: State = 'hosts'
  const lines = text.split(LINE_BREAK)
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1
    const line = lines[index].replace(PY_STRIP, '')
    if (line === '' || line[0] === '#' || line[0] === ';') continue
    const fail = (what: string) => new IniError(`${source} line ${lineNo}: ${what}`, lineNo)
    try {
      const section = SECTION.exec(line)
      if (section !== null) {
        group = section[1]
        const kind = section[2] ?? 'hosts'
        if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
          throw fail(`section ${quote(line)} has the unknown type ${quote(kind)}; write [${group}], [${group}:vars] or [${group}:children]`)
        }
        state = kind
        declare(inv, pending, group, state, lineNo)
        continue
      }
      if (line.startsWith('[') && line.endsWith(']')) {
        throw fail(`${quote(line)} is not a section header; write [group], [group:vars] or [group:children], with no spaces inside the brackets`)
      }
      if (state === 'hosts') hostLine(inv, line, group, `line ${lineNo}`)
      else if (state === 'vars') varLine(inv, line, group, `line ${lineNo}`)
      else childLine(inv, pending, line, group, lineNo)
    } catch (err) {
      if (err instanceof BuildError) throw fail(err.message)
      if (err instanceof IniError) throw err
      if (err instanceof Error && !(err instanceof InventoryError)) throw fail(err.message)
      throw err
    }
  }
  const [name, first] = pending.entries().next().value ?? []
  if (name !== undefined && first !== undefined) {
    const declared = `no [${name}] or [${name}:children] section declares it`
    const what =
      first.state === 'vars' ? `[${name}:vars] is for group ${name}, but ${declared}` : `[${first.parents[0]}:children] lists ${name}, but ${declared}`
    throw new IniError(`${source} line ${first.line}: ${what}`, first.line)
  }
  return inv.finish(source)
}

/**
 * A section header. As in ini.py: [g] and [g:children] declare g; [g:vars] before that creates g but
 * waits for a declaration; children named before their group is declared are linked when it is.
 */
function declare(inv: InventoryBuilder, pending: Map<string, Pending>, group: string, state: State, line: number): void {
  if (!inv.hasGroup(group)) {
    if (state === 'vars' && !pending.has(group)) pending.set(group, { line, state, parents: [] })
    inv.addGroup(group, `line ${line}`)
  }
  const waiting = pending.get(group)
  if (waiting === undefined || state === 'vars') return
  if (waiting.state === 'children') linkPending(inv, pending, group)
  else pending.delete(group)
}

function linkPending(inv: InventoryBuilder, pending: Map<string, Pending>, group: string): void {
  for (const parent of pending.get(group)!.parents) {
    inv.addChild(parent, group)
    if (pending.get(parent)?.state === 'children') linkPending(inv, pending, parent)
  }
  pending.delete(group)
}

function hostLine(inv: InventoryBuilder, line: string, group: string, where: string): void {
  let tokens: string[]
  try {
    tokens = shlexSplit(line)
  } catch (err) {
    throw new Error(`cannot split the host line ${quote(line)}: ${(err as Error).message}`, { cause: err })
  }
  const entry = tokens[0] ?? ''
  const { names, port } = expandHostPattern(entry, MAX_INVENTORY_HOSTS)
  if (entry.trim().endsWith(':') && port === undefined) {
    throw new Error(`host ${quote(entry)} ends with ':'; a ':' after a host name comes before its port (web1:2222)`)
  }
  if (names.some((n) => n.trim() === '---')) throw new Error(`host ${quote(entry)}: '---' starts a YAML document, not an INI host`)
  const vars = new Map<string, ReturnType<typeof parseIniValue>>()
  for (const token of tokens.slice(1)) {
    const eq = token.indexOf('=')
    if (eq === -1) throw new Error(`${quote(token)} after host ${quote(entry)} is not key=value; host vars are written name=value`)
    vars.set(token.slice(0, eq), parseIniValue(token.slice(eq + 1)))
  }
  for (const name of names) {
    inv.addHost(name, group, port, where)
    for (const [key, value] of vars) inv.setVar(name, key, value, where)
  }
}

function varLine(inv: InventoryBuilder, line: string, group: string, where: string): void {
  const eq = line.indexOf('=')
  if (eq === -1) throw new Error(`${quote(line)} is not key=value; a [${group}:vars] section holds one name=value a line`)
  const key = line.slice(0, eq).replace(PY_STRIP, '')
  inv.setVar(group, key, parseIniValue(line.slice(eq + 1).replace(PY_STRIP, '')), where)
}

function childLine(inv: InventoryBuilder, pending: Map<string, Pending>, line: string, group: string, lineNo: number): void {
  const m = GROUP_NAME.exec(line)
  if (m === null) throw new Error(`${quote(line)} is not a group name; a [${group}:children] section lists one group a line`)
  const child = m[1]
  if (inv.hasGroup(child)) {
    inv.addChild(group, child)
    return
  }
  const waiting = pending.get(child)
  if (waiting === undefined) pending.set(child, { line: lineNo, state: 'children', parents: [group] })
  else waiting.parents.push(group)
}
