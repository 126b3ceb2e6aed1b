/**
 * Ansible's YAML inventory, as ansible-core's plugins/inventory/yaml.py reads it: top-level keys are
 * groups; a group is a mapping (or empty) with `hosts` (host entries, each with its vars or nothing),
 * `children` (groups, the same way) and `vars`, taken in the order written; `hosts: web1` (text) means
 * one host. What ansible-core skips with a warning (a key that is not a group, an unknown key in a group)
 * goes to `ignored`; what it refuses is an error naming the key path and line.
 */
import { isMap, isScalar, isSeq, type Node, type ParsedNode } from 'yaml'
import { quote } from '../parse.js'
import { expandHostPattern } from './address.js'
import { BuildError, InventoryBuilder, MAX_INVENTORY_HOSTS } from './builder.js'
import { InventoryError, type Inventory } from './types.js'
import { keyText, Nodes, type Entry, type Key, type YamlText } from './yaml-nodes.js'

const SECTIONS = ['vars', 'children', 'hosts']
const GROUP_FORM = 'a group is a mapping with hosts, children and vars (each optional), or empty'

export function parseYaml(yaml: YamlText, source: string): Inventory {
  return new YamlInventory(yaml, source).read()
}

class YamlInventory {
  private readonly nodes: Nodes
  private readonly inv = new InventoryBuilder()

  constructor(
    private readonly yaml: YamlText,
    private readonly source: string,
  ) {
    this.nodes = new Nodes(yaml, source)
  }

  read(): Inventory {
    const root = this.nodes.resolve(this.yaml.doc.contents, '')
    if (!isMap(root)) throw new InventoryError(`${this.source}: a YAML inventory is a mapping of groups (all:, web:, …)`)
    const top = this.nodes.entries(root, '')
    const plugin = top.find((e) => e.key === 'plugin')
    if (plugin !== undefined && truthy(this.nodes.value(plugin.value, 'plugin'))) {
      throw this.nodes.fail(plugin.keyNode, 'plugin', "this is an inventory plugin's configuration, not an inventory; only YAML and INI inventories are read")
    }
    for (const e of top) this.group(e, keyText(e.key))
    return this.inv.finish(this.source)
  }

  /** A group and what is under it; returns its name and whether it was skipped as not a group. */
  private group(e: Entry, path: string): { name: Key; skipped: boolean } {
    const data = this.nodes.resolve(e.value, path)
    if (data !== null && !isMap(data)) {
      this.inv.ignored.push(path)
      return { name: e.key, skipped: true }
    }
    if (typeof e.key !== 'string') throw this.nodes.fail(e.keyNode, path, `group name ${keyText(e.key)} is not text; quote it`)
    const name = e.key
    this.build(e.keyNode, path, () => this.inv.addGroup(name, this.where(path, e.keyNode)))
    if (data === null) return { name, skipped: false }
    const entries = this.nodes.entries(data, path)
    const sections = new Map(SECTIONS.map((s) => [s, this.section(entries, s, `${path}.${s}`)]))
    for (const entry of entries) {
      const key = keyText(entry.key)
      const at = `${path}.${key}`
      const items = typeof entry.key === 'string' && SECTIONS.includes(entry.key) ? sections.get(entry.key)! : this.mapping(entry.value, at)
      if (items === 'not a mapping') this.inv.ignored.push(at)
      else if (items === null) continue
      else if (key === 'vars') for (const v of items) this.setVar(name, v, `${at}.${keyText(v.key)}`)
      else if (key === 'children') for (const c of items) this.child(name, c, `${at}.${keyText(c.key)}`)
      else if (key === 'hosts') for (const h of items) this.host(name, h, `${at}.${keyText(h.key)}`)
      else this.inv.ignored.push(at)
    }
    return { name, skipped: false }
  }

  /** `hosts`, `children`, `vars`: a mapping, empty, or text standing for one key with no value. */
  private section(entries: Entry[], name: string, path: string): Entry[] | null | undefined {
    const entry = entries.find((e) => e.key === name)
    if (entry === undefined) return undefined
    const node = this.nodes.resolve(entry.value, path)
    if (isScalar(node) && typeof node.value === 'string') return [{ key: node.value, keyNode: node, value: null }]
    const items = this.mapping(node, path)
    if (items === 'not a mapping') throw this.nodes.fail(entry.keyNode, path, `${name} is a mapping (or empty); here it is ${kind(node)}`)
    return items
  }

  private mapping(node: ParsedNode | null, path: string): Entry[] | null | 'not a mapping' {
    const n = this.nodes.resolve(node, path)
    if (n === null) return null
    return isMap(n) ? this.nodes.entries(n, path) : 'not a mapping'
  }

  private child(parent: string, e: Entry, path: string): void {
    const { name, skipped } = this.group(e, path)
    // ansible-core still links a skipped child when a group (or host) of that name exists.
    try {
      if (typeof name !== 'string') throw new BuildError(`group name ${keyText(name)} is not text; quote it`)
      this.inv.addChild(parent, name)
    } catch (err) {
      if (!(err instanceof BuildError)) throw err
      throw this.nodes.fail(e.keyNode, path, skipped ? `${GROUP_FORM}; here it is ${kind(this.nodes.resolve(e.value, path))}` : err.message)
    }
  }

  private host(group: string, e: Entry, path: string): void {
    if (typeof e.key !== 'string') {
      throw this.nodes.fail(e.keyNode, path, `host name ${keyText(e.key)} is not text; quote it (e.g. "10.0.0.1" or "1234")`)
    }
    const entry = e.key
    const { names, port } = this.build(e.keyNode, path, () => expandHostPattern(entry, MAX_INVENTORY_HOSTS))
    const node = this.nodes.resolve(e.value, path)
    // ansible-core reads any false-like value (nothing, '', 0, false, [], {}) as no vars.
    const vars = isMap(node) ? this.nodes.entries(node, path) : []
    if (node !== null && !isMap(node) && truthy(this.nodes.value(node, path))) {
      throw this.nodes.fail(e.keyNode, path, `a host's value is a mapping of its vars, or empty; here it is ${kind(node)}`)
    }
    const where = this.where(path, e.keyNode)
    for (const name of names) {
      this.build(e.keyNode, path, () => this.inv.addHost(name, group, port, where))
      for (const v of vars) this.setVar(name, v, `${path}.${keyText(v.key)}`)
    }
  }

  private setVar(entity: string, v: Entry, path: string): void {
    const value = this.nodes.value(v.value, path)
    this.build(v.keyNode, path, () => this.inv.setVar(entity, keyText(v.key), value, this.where(path, v.keyNode)))
  }

  private where(path: string, node: Node | null): string {
    return `${path} (line ${this.nodes.line(node)})`
  }

  private build<T>(node: Node | null, path: string, step: () => T): T {
    try {
      return step()
    } catch (err) {
      if (err instanceof BuildError || (err instanceof Error && !(err instanceof InventoryError))) throw this.nodes.fail(node, path, err.message)
      throw err
    }
  }
}

/** Python's truth of a value. */
function truthy(v: unknown): boolean {
  if (v === null || v === false || v === 0 || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  if (typeof v === 'object') return Object.keys(v).length > 0
  return true
}

function kind(node: ParsedNode | null): string {
  if (isSeq(node)) return 'a list'
  if (isMap(node)) return 'a mapping'
  if (!isScalar(node)) return 'empty'
  const v = node.value
  return typeof v === 'string' ? `the text ${quote(v)}` : `${typeof v === 'bigint' ? 'the number' : `the ${typeof v}`} ${String(v)}`
}
