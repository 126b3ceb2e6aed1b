/**
 * YAML as ansible-core loads it (PyYAML, YAML 1.1, with Ansible's tags), over the `yaml` package's nodes:
 * plain scalars resolve as PyYAML's resolver does (`yes`/`on` booleans but not `y`, `0755` octal, `1:30`
 * sexagesimal, `1e3` text since a float needs a dot, timestamps kept as text); `<<` merge keys and
 * duplicate keys as PyYAML's constructor treats them (the last value wins, in the first key's place);
 * `!unsafe` text as text, `!vault` as `{ __ansible_vault: … }` the way ansible-inventory prints it.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document, type Node, type ParsedNode, type ScalarTag } from 'yaml'
import { InventoryError, type VarValue } from './types.js'

const YAML_TAG = 'tag:yaml.org,2002:'

/** PyYAML's implicit resolvers (yaml/resolver.py) and constructors, as `yaml` custom tags. */
const PY_TAGS: ScalarTag[] = [
  {
    tag: `${YAML_TAG}null`,
    default: true,
    test: /^(?:~|null|Null|NULL)?$/,
    resolve: () => new Scalar(null),
  },
  {
    tag: `${YAML_TAG}bool`,
    default: true,
    test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
    resolve: (s) => /^(?:yes|true|on)$/i.test(s),
  },
  {
    tag: `${YAML_TAG}int`,
    default: true,
    test: /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
    resolve: (s, onError) => pyInt(s) ?? onError(`${JSON.stringify(s)} is not an integer`),
  },
  {
    tag: `${YAML_TAG}float`,
    default: true,
    test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    resolve: (s, onError) => pyFloat(s) ?? onError(`${JSON.stringify(s)} is not a number`),
  },
  ...['timestamp', 'binary'].map((t) => ({ tag: `${YAML_TAG}${t}`, resolve: (s: string) => s })),
  ...['!unsafe', '!vault', '!vault-encrypted'].map((tag) => ({ tag, resolve: (s: string) => s })),
]

/** Most nodes one inventory's values may expand to through aliases (a "billion laughs" file stops here). */
const MAX_NODES = 1_000_000

export interface YamlText {
  doc: Document.Parsed
  lines: LineCounter
}

/** A YAML syntax error: the message says the line and column. */
export class YamlSyntaxError extends InventoryError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message)
  }
}

/** Parses one YAML document; throws YamlSyntaxError (and for a tag ansible-core cannot construct). */
export function readYaml(text: string, source: string): YamlText {
  const lines = new LineCounter()
  const doc = parseDocument(text, {
    version: '1.1',
    schema: 'failsafe',
    customTags: PY_TAGS,
    merge: false,
    uniqueKeys: false,
    lineCounter: lines,
    prettyErrors: false,
  })
  const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED')
  if (problem !== undefined) {
    const { line, col } = lines.linePos(problem.pos[0])
    const what =
      problem.code === 'TAG_RESOLVE_FAILED' ? `${problem.message}; ansible-core reads YAML's own tags, !unsafe and !vault` : problem.message.split('\n')[0]
    throw new YamlSyntaxError(`${source} line ${line}, column ${col}: ${what}`, line)
  }
  return { doc, lines }
}

export type Key = string | number | boolean | null

export interface Entry {
  key: Key
  keyNode: Node | null
  value: ParsedNode | null
}

/** Walks one file's nodes: aliases resolved, merges flattened, positions, a budget against alias bombs. */
export class Nodes {
  private visited = 0
  /** Each alias's node, found once for all at the first alias (yaml's Alias.resolve searches the whole document each time). */
  private anchors: Map<Node, ParsedNode> | undefined

  constructor(
    private readonly yaml: YamlText,
    private readonly source: string,
  ) {}

  /** An alias names the last node anchored with its name before it. */
  private target(alias: Node): ParsedNode | undefined {
    if (this.anchors === undefined) {
      const anchors = new Map<Node, ParsedNode>()
      const named = new Map<string, ParsedNode>()
      visit(this.yaml.doc, (_key, node) => {
        if (isAlias(node)) {
          const target = named.get(node.source)
          if (target !== undefined) anchors.set(node, target)
        } else if ((isScalar(node) || isMap(node) || isSeq(node)) && node.anchor !== undefined) {
          named.set(node.anchor, node as ParsedNode)
        }
      })
      this.anchors = anchors
    }
    return this.anchors.get(alias)
  }

  /** The line a node starts on (1-based), for messages. */
  line(node: Node | null | undefined): number {
    return node?.range ? this.yaml.lines.linePos(node.range[0]).line : 0
  }

  fail(node: Node | null | undefined, path: string, what: string): InventoryError {
    return new InventoryError(`${this.source} ${path} (line ${this.line(node)}): ${what}`)
  }

  /** The node itself (aliases followed), or null for nothing or a null scalar. */
  resolve(node: ParsedNode | Node | null | undefined, path: string): ParsedNode | null {
    let current = node ?? null
    if (isAlias(current)) {
      current = this.target(current) ?? null
      if (current === null) throw this.fail(node, path, 'an alias names no anchor')
    }
    if (++this.visited > MAX_NODES) throw this.fail(node, path, `the aliases expand to more than ${MAX_NODES} values`)
    if (isScalar(current) && current.value === null) return null // `key:`, `key: ~`, `key: null`
    return current as ParsedNode | null
  }

  /**
   * A mapping's entries as PyYAML constructs them: `<<` merges first (a list of them, the last listed
   * first, so earlier ones win), then the mapping's own; a key written twice keeps its first place and
   * its last value.
   */
  entries(map: ParsedNode, path: string): Entry[] {
    const out = new Map<string, Entry>()
    for (const pair of this.flatten(map, path, new Set())) {
      const key = this.key(pair.key, path)
      const id = `${typeof key}:${String(key)}`
      const first = out.get(id)
      if (first === undefined) out.set(id, { key, keyNode: pair.key, value: pair.value })
      else out.set(id, { ...first, keyNode: pair.key, value: pair.value })
    }
    return [...out.values()]
  }

  /** The value a var holds. */
  value(node: ParsedNode | null, path: string, stack = new Set<Node>()): VarValue {
    const n = this.resolve(node, path)
    if (n === null) return null
    if (stack.has(n)) throw this.fail(n, path, 'a value contains itself (through an alias)')
    stack.add(n)
    try {
      if (isScalar(n)) return scalarValue(n)
      if (isMap(n)) {
        if (n.tag === `${YAML_TAG}set`) return this.entries(n, path).map((e) => e.key)
        return Object.fromEntries(this.entries(n, path).map((e) => [keyText(e.key), this.value(e.value, `${path}.${keyText(e.key)}`, stack)]))
      }
      if (isSeq(n)) return n.items.map((item, i) => this.value(item, `${path}[${i}]`, stack))
      return null
    } finally {
      stack.delete(n)
    }
  }

  private flatten(map: ParsedNode, path: string, seen: Set<Node>): { key: Node | null; value: ParsedNode | null }[] {
    if (!isMap(map)) throw this.fail(map, path, 'a merge (<<) takes a mapping or a list of mappings')
    if (seen.has(map)) throw this.fail(map, path, 'a merge (<<) includes its own mapping')
    seen.add(map)
    const merged: { key: Node | null; value: ParsedNode | null }[] = []
    const own: { key: Node | null; value: ParsedNode | null }[] = []
    for (const pair of map.items) {
      const key = pair.key as Node | null
      const value = pair.value
      if (!isMergeKey(key)) {
        own.push({ key, value })
        continue
      }
      const source = this.resolve(value, path)
      const sources = isSeq(source) ? source.items.map((item) => this.resolve(item, path)) : [source]
      for (const s of sources.reverse()) {
        if (!isMap(s)) throw this.fail(key, path, 'a merge (<<) takes a mapping or a list of mappings')
        merged.push(...this.flatten(s, path, new Set(seen)))
      }
    }
    return merged.length === 0 ? own : merged.concat(own)
  }

  private key(node: Node | null, path: string): Key {
    const n = this.resolve(node, path)
    if (n === null) return null
    if (!isScalar(n)) throw this.fail(n, path, 'a mapping key is a list or a mapping; keys are names')
    const v = scalarValue(n)
    if (v !== null && typeof v === 'object') throw this.fail(n, path, 'a mapping key is an encrypted (!vault) value')
    return v
  }
}

function isMergeKey(node: Node | null): boolean {
  return isScalar(node) && node.type === Scalar.PLAIN && node.value === '<<' && node.tag === undefined
}

function scalarValue(node: Scalar): VarValue {
  const v = node.value
  if (node.tag === '!vault' || node.tag === '!vault-encrypted') return { __ansible_vault: String(v) }
  if (typeof v === 'bigint') return bigIntValue(v)
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  return null // the tags above make nothing else
}

/** A key as text (as JSON writes Python's keys). */
export function keyText(key: Key | VarValue): string {
  if (key === null) return 'null'
  return typeof key === 'object' ? JSON.stringify(key) : String(key)
}

/** An integer too large for a JavaScript number is kept as its decimal text. */
function bigIntValue(n: bigint): number | string {
  const safe = BigInt(Number.MAX_SAFE_INTEGER)
  return n <= safe && n >= -safe ? Number(n) : String(n)
}

/** PyYAML's construct_yaml_int (kept a bigint until the value is taken, so a key's type stays known). */
function pyInt(text: string): bigint | undefined {
  let s = text.replace(/_/g, '')
  const sign = s.startsWith('-') ? -1n : 1n
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1)
  try {
    if (s === '0') return 0n
    if (s.startsWith('0b')) return sign * BigInt(`0b${s.slice(2)}`)
    if (s.startsWith('0x')) return sign * BigInt(`0x${s.slice(2)}`)
    if (s.startsWith('0')) return sign * BigInt(`0o${s.slice(1)}`)
    if (s.includes(':')) return sign * s.split(':').reduce((n, part) => n * 60n + BigInt(part), 0n)
    return sign * BigInt(s)
  } catch {
    return undefined
  }
}

/** PyYAML's construct_yaml_float. */
function pyFloat(text: string): number | undefined {
  let s = text.replace(/_/g, '').toLowerCase()
  const sign = s.startsWith('-') ? -1 : 1
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1)
  if (s === '.inf') return sign * Infinity
  if (s === '.nan') return NaN
  const n = s.includes(':') ? s.split(':').reduce((acc, part) => acc * 60 + Number(part), 0) : Number(s)
  return Number.isNaN(n) ? undefined : sign * n
}
