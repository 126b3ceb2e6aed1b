/**
 * `batch-by: group`: the selected hosts cut into one run of hosts per group, so that a batch
 * never mixes groups. A batch's group is always one that lists its hosts directly:
 *
 *  - the union terms of the pattern are taken in the order written (`&` and `!` terms only
 *    filter, they name no batch; with no union the term is `all`);
 *  - a term that matches groups (a name, a wildcard, a regex, `all`) takes, for each matched
 *    group in inventory order, the groups of that group's walk (itself, then its descendants in
 *    Ansible's host order, order.ts): `web` is one batch group, `prod` with children `web` and
 *    `db` gives `web` then `db` (and `prod` first if it lists hosts itself), `all` gives every
 *    group in inventory order. `all` itself is never a batch group: its hosts are in `ungrouped`
 *    or another group too;
 *  - a term that names a host (exactly, or a wildcard or regex that matched host names) puts
 *    the host in its first own group (the first group listing it in the walk from `all`);
 *  - a host goes with the first group it meets this way; a group is one batch, placed where it
 *    was first met; within it the hosts keep their order in `selected`.
 *
 * Walking the groups in host order means that for `all` the batches, put end to end, are
 * Ansible's host order, but for a host listed under `all` itself and in another group (it comes
 * first in the host order, and with that group here).
 */
import { firstOwnGroups, walkGroups } from './order.js'
import { evaluatePattern } from './pattern.js'
import type { Inventory } from './types.js'

export interface GroupBatch {
  group: string
  hosts: string[]
}

/**
 * The hosts of `selected` (the hosts the pattern selected, maybe narrowed down, e.g. to a
 * shard) group by group, in the order the pattern names the groups.
 */
export function batchByGroup(inv: Inventory, pattern: string, selected: string[]): GroupBatch[] {
  const wanted = new Set(selected)
  const groupOfHost = new Map<string, string>()
  const own = firstOwnGroups(inv)
  const assign = (host: string, group: string, claimed: Set<string> | undefined): void => {
    if (wanted.has(host) && !groupOfHost.has(host) && (claimed === undefined || claimed.has(host))) groupOfHost.set(host, group)
  }
  for (const term of evaluatePattern(inv, pattern).terms) {
    if (term.op !== 'union') continue
    // A term claims only the hosts it selected itself (after its subscript).
    const claimed = new Set(term.hosts)
    for (const matched of term.groups) {
      for (const group of walkGroups(inv, matched)) if (group.name !== 'all') for (const host of group.hosts) assign(host, group.name, claimed)
    }
    for (const host of [...(term.host !== undefined ? [term.host] : []), ...term.hostNames]) assign(host, own.get(host) ?? 'all', claimed)
  }
  // A host no term claims (not selected by this pattern: a caller's mistake) goes with its first own group.
  for (const host of selected) assign(host, own.get(host) ?? 'all', undefined)

  const batches = new Map<string, string[]>()
  for (const group of groupOfHost.values()) if (!batches.has(group)) batches.set(group, [])
  for (const host of selected) batches.get(groupOfHost.get(host)!)!.push(host)
  return [...batches].map(([group, hosts]) => ({ group, hosts }))
}
