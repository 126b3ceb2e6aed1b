/**
 * Host order as Ansible prints it (`ansible all --list-hosts`): ansible-core's Group.get_hosts,
 * which walks the group and its descendants (_walk_relationship with preserve_ordering) and
 * takes each group's own hosts in turn, a host once, where first met.
 *
 * The walk: the group itself, then its children in list order, then level by level deeper. At
 * the deeper levels ansible-core iterates a Python *set* of groups (hashed by object identity),
 * so when two groups of one level both bring new children, their order is arbitrary and varies
 * from run to run (seen with `ansible all --list-hosts` on the same file). We make it
 * deterministic the natural way: each level is taken in the order its groups were reached, a
 * breadth-first walk in list order. Ansible's order is then one of the orders it can print.
 */
import { quote } from '../parse.js'
import { InventoryError, type Group, type Inventory } from './types.js'

/** The group of that name; the model guarantees every child named exists. */
export function groupOf(inv: Inventory, name: string): Group {
  const group = inv.groups.get(name)
  if (group === undefined) throw new InventoryError(`the inventory has no group ${quote(name)}`)
  return group
}

/** The group and all its descendants, each once, in Ansible's walk order (made deterministic, see above). */
export function walkGroups(inv: Inventory, name: string): Group[] {
  const start = groupOf(inv, name)
  const seen = new Set<string>([start.name])
  const ordered: Group[] = [start]
  // Level by level: the groups of a level in the order they were reached (Ansible: a set).
  let level: Group[] = [start]
  while (level.length > 0) {
    const next: Group[] = []
    for (const group of level) {
      for (const child of group.children) {
        if (seen.has(child)) continue
        seen.add(child)
        const g = groupOf(inv, child)
        ordered.push(g)
        next.push(g)
      }
    }
    level = next
  }
  return ordered
}

/** The hosts of a group and of its descendants, in Ansible's order (Group.get_hosts). */
export function groupHosts(inv: Inventory, name: string): string[] {
  const seen = new Set<string>()
  const hosts: string[] = []
  for (const group of walkGroups(inv, name)) {
    for (const host of group.hosts) {
      if (seen.has(host)) continue
      seen.add(host)
      hosts.push(host)
    }
  }
  return hosts
}

/** Every host in inventory order: `ansible all --list-hosts`. */
export function inventoryOrder(inv: Inventory): string[] {
  return groupHosts(inv, 'all')
}

/**
 * For each host, the group it is listed in directly that comes first in the walk from `all`
 * (never `all` itself: a host listed only there is in `ungrouped` too). batch-by: group files a
 * host named on its own in the pattern under this group.
 */
export function firstOwnGroups(inv: Inventory): Map<string, string> {
  const first = new Map<string, string>()
  for (const group of walkGroups(inv, 'all')) {
    if (group.name === 'all') continue
    for (const host of group.hosts) if (!first.has(host)) first.set(host, group.name)
  }
  return first
}
