/**
 * Inventories built by hand for the semantics tests, reconciled as ansible-core's InventoryData
 * does (all and ungrouped first, parentless groups become all's children in creation order, a
 * host in no group but all goes in ungrouped), and the model as ansible-core itself holds it.
 */
import type { Group, Host, Inventory, Var, VarValue } from '../../src/engine/inventory/types.js'

export interface GroupSpec {
  hosts?: string[]
  children?: string[]
  vars?: Record<string, VarValue>
}

const toVars = (vars: Record<string, VarValue> | undefined, where: string): Map<string, Var> =>
  new Map(Object.entries(vars ?? {}).map(([k, value]) => [k, { value, where: `${where}.${k}` }]))

/**
 * Groups in creation order (a child must be a key too); `all` and `ungrouped` may be given to
 * set their vars or hosts. Hosts are created where first listed, then those only in hostVars.
 */
export function buildInventory(groups: Record<string, GroupSpec>, hostVars: Record<string, Record<string, VarValue>> = {}): Inventory {
  const inv: Inventory = { groups: new Map(), hosts: new Map(), ignored: [] }
  const addGroup = (name: string): Group => {
    let g = inv.groups.get(name)
    if (!g) inv.groups.set(name, (g = { name, hosts: [], children: [], vars: new Map(), where: name }))
    return g
  }
  const addHost = (name: string): Host => {
    let h = inv.hosts.get(name)
    if (!h) inv.hosts.set(name, (h = { name, vars: toVars(hostVars[name], name), where: name }))
    return h
  }
  addGroup('all').children.push('ungrouped')
  addGroup('ungrouped')
  for (const [name, spec] of Object.entries(groups)) {
    const g = addGroup(name)
    for (const [k, v] of toVars(spec.vars, name)) g.vars.set(k, v)
    for (const h of spec.hosts ?? []) {
      addHost(h)
      if (!g.hosts.includes(h)) g.hosts.push(h)
    }
    for (const c of spec.children ?? []) if (!g.children.includes(c)) g.children.push(c)
  }
  for (const c of Object.values(groups).flatMap((s) => s.children ?? [])) {
    if (!inv.groups.has(c)) throw new Error(`test inventory: child group ${c} is not a key`)
  }
  for (const h of Object.keys(hostVars)) addHost(h)
  const hasParent = new Set([...inv.groups.values()].flatMap((g) => g.children))
  for (const g of inv.groups.values()) if (g.name !== 'all' && !hasParent.has(g.name)) inv.groups.get('all')!.children.push(g.name)
  for (const h of inv.hosts.keys()) {
    const owners = [...inv.groups.values()].filter((g) => g.hosts.includes(h)).map((g) => g.name)
    if (owners.every((o) => o === 'all')) inv.groups.get('ungrouped')!.hosts.push(h)
  }
  return inv
}

/** The JSON the ansible bridge prints for one inventory's model (test/helpers/ansible.ts). */
export interface AnsibleModel {
  groups: { name: string; hosts: string[]; children: string[]; vars: Record<string, VarValue>; priority: number; depth: number }[]
  hosts: { name: string; vars: Record<string, VarValue>; groupNames: string[] }[]
}

/** ansible-core's own parse of a file as our model (its priority back as ansible_group_priority). */
export function modelFromAnsible(model: AnsibleModel): Inventory {
  const inv: Inventory = { groups: new Map(), hosts: new Map(), ignored: [] }
  for (const g of model.groups) {
    const vars = toVars(g.vars, g.name)
    if (g.priority !== 1) vars.set('ansible_group_priority', { value: g.priority, where: `${g.name}.ansible_group_priority` })
    inv.groups.set(g.name, { name: g.name, hosts: g.hosts, children: g.children, vars, where: g.name })
  }
  for (const h of model.hosts) inv.hosts.set(h.name, { name: h.name, vars: toVars(h.vars, h.name), where: h.name })
  return inv
}
