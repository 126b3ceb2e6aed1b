/**
 * What the semantics read from the group graph again and again — each group's parents and
 * depth, each host's groups — worked out once per Inventory object (the model is read-only once
 * parsed), so that vars and group_names for thousands of hosts stay fast.
 */
import { quote } from '../parse.js'
import { InventoryError, type Inventory } from './types.js'

interface Graph {
  parents: Map<string, string[]>
  depths: Map<string, number>
  /** Host -> the groups that list it directly. */
  listedIn: Map<string, string[]>
  /** Group -> itself and all its ancestors (filled as asked). */
  ancestors: Map<string, Set<string>>
}

const graphs = new WeakMap<Inventory, Graph>()

/**
 * Each group's depth: the longest path from `all` (Group.add_child_group keeps
 * child.depth >= parent.depth + 1, so that is what ansible-core ends with). A loop is an error.
 */
function depthsOf(inv: Inventory, parents: Map<string, string[]>): Map<string, number> {
  const depths = new Map<string, number>()
  const onPath = new Set<string>()
  const depth = (name: string): number => {
    const known = depths.get(name)
    if (known !== undefined) return known
    if (onPath.has(name)) throw new InventoryError(`group ${quote(name)} is its own descendant through its children; a group cannot contain itself`)
    onPath.add(name)
    const ps = parents.get(name) ?? []
    // A parentless group other than `all` is all's child once reconciled: depth 1.
    const d = name === 'all' ? 0 : ps.length === 0 ? 1 : 1 + Math.max(...ps.map(depth))
    onPath.delete(name)
    depths.set(name, d)
    return d
  }
  for (const name of inv.groups.keys()) depth(name)
  return depths
}

function graphOf(inv: Inventory): Graph {
  let graph = graphs.get(inv)
  if (graph) return graph
  const parents = new Map<string, string[]>()
  const listedIn = new Map<string, string[]>()
  for (const group of inv.groups.values()) parents.set(group.name, [])
  for (const group of inv.groups.values()) {
    for (const child of group.children) parents.get(child)?.push(group.name)
    for (const host of group.hosts) {
      const list = listedIn.get(host)
      if (list) list.push(group.name)
      else listedIn.set(host, [group.name])
    }
  }
  graph = { parents, depths: depthsOf(inv, parents), listedIn, ancestors: new Map() }
  graphs.set(inv, graph)
  return graph
}

export function groupDepths(inv: Inventory): ReadonlyMap<string, number> {
  return graphOf(inv).depths
}

function ancestorsOf(graph: Graph, name: string): Set<string> {
  let found = graph.ancestors.get(name)
  if (found) return found
  found = new Set([name])
  for (const p of graph.parents.get(name) ?? []) for (const a of ancestorsOf(graph, p)) found.add(a)
  graph.ancestors.set(name, found)
  return found
}

/** The groups a host belongs to: those that list it, and all their ancestors (Host.get_groups, as a set). */
export function hostGroups(inv: Inventory, host: string): string[] {
  if (!inv.hosts.has(host)) throw new InventoryError(`the inventory has no host ${quote(host)}`)
  const graph = graphOf(inv)
  const found = new Set<string>()
  for (const g of graph.listedIn.get(host) ?? []) for (const a of ancestorsOf(graph, g)) found.add(a)
  if (inv.groups.has('all')) found.add('all')
  return [...found]
}
