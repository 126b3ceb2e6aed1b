/**
 * A host's vars with Ansible's precedence (ansible-core VariableManager.get_vars with the
 * default VARIABLE_PRECEDENCE and hash_behaviour `replace`): the `all` group's vars, then the
 * host's other groups sorted by (depth, ansible_group_priority, name) ascending (helpers.py
 * sort_groups / get_group_vars), then the host's own vars; a later source replaces a key
 * whole (combine_vars: no deep merge). Also Ansible's `group_names`.
 */
import { clip, quote } from '../parse.js'
import { groupDepths, hostGroups } from './graph.js'
import { InventoryError, type Group, type Inventory, type Var } from './types.js'

const PRIORITY = 'ansible_group_priority'

/** Python compares str by code point; JS's `<` compares UTF-16 units (differs past U+FFFF). */
export function comparePython(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!)
  const y = Array.from(b, (c) => c.codePointAt(0)!)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i]
  return x.length - y.length
}

/**
 * ansible_group_priority as ansible-core reads it: int(value), default 1. Python's int() takes a
 * whole number or a string of one ("10", " -2 ", "1_000") and truncates a float; on anything
 * else ansible-core stops with a Python error, so we refuse it with the group and the place.
 */
export function groupPriority(group: Group): number {
  const v = group.vars.get(PRIORITY)
  if (v === undefined) return 1
  const { value } = v
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value)
  if (typeof value === 'string' && /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(value)) return Number(value.replace(/_/g, ''))
  throw new InventoryError(
    `${v.where}: ${PRIORITY} of group ${quote(group.name)} is ${clip(JSON.stringify(value))}; it must be a whole number (higher wins among groups of the same depth)`,
  )
}

/** Ansible's `group_names`: the host's groups but `all`, sorted (`ungrouped` is among them for an ungrouped host, as in ansible-core). */
export function groupNames(inv: Inventory, host: string): string[] {
  return hostGroups(inv, host)
    .filter((g) => g !== 'all')
    .sort(comparePython)
}

/** The host's groups but `all` in the order their vars apply (the last one wins): sort_groups. */
export function varsOrder(inv: Inventory, host: string): string[] {
  const depths = groupDepths(inv)
  const keyed = hostGroups(inv, host)
    .filter((g) => g !== 'all')
    .map((name) => ({ name, depth: depths.get(name)!, priority: groupPriority(inv.groups.get(name)!) }))
  keyed.sort((a, b) => a.depth - b.depth || a.priority - b.priority || comparePython(a.name, b.name))
  return keyed.map((k) => k.name)
}

/**
 * The host's merged vars (what `ansible-inventory --list` shows as its hostvars), each with the
 * place it was written. ansible_group_priority is not a var for Ansible (Group.set_variable
 * keeps it aside as the priority), so it is left out of the groups' vars.
 */
export function hostVars(inv: Inventory, host: string): Map<string, Var> {
  const merged = new Map<string, Var>()
  const all = inv.groups.get('all')
  for (const name of [...(all ? ['all'] : []), ...varsOrder(inv, host)]) {
    for (const [key, v] of inv.groups.get(name)!.vars) if (key !== PRIORITY) merged.set(key, v)
  }
  for (const [key, v] of inv.hosts.get(host)!.vars) merged.set(key, v)
  return merged
}
