/**
 * The inventory as the parsers fill it, with ansible-core's InventoryData rules (lib/ansible/inventory/
 * data.py, group.py): `all` and `ungrouped` first, a host's `host:port` kept only where the host is first
 * written, a group never its own ancestor, and at the end (reconcile_inventory) every parentless group a
 * child of `all` and every host in no group but `all` in `ungrouped`. Throws BuildError (no position:
 * the parser adds it).
 */
import { InventoryError, type Group, type Host, type Inventory, type VarValue, type Where } from './types.js'

/** Most hosts one inventory may hold (ranges included): far more than a run may target, far less than would hurt. */
export const MAX_INVENTORY_HOSTS = 100_000

export class BuildError extends Error {}

export class InventoryBuilder {
  private readonly groups = new Map<string, Group>()
  private readonly hosts = new Map<string, Host>()
  private readonly parents = new Map<string, string[]>()
  /** Each host's groups, as written (not their ancestors). */
  private readonly memberOf = new Map<string, Set<string>>()
  readonly ignored: string[] = []

  constructor() {
    this.addGroup('all', '')
    this.addGroup('ungrouped', '')
    this.addChild('all', 'ungrouped')
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name)
  }

  /** Creates the group unless it exists; `all` and `ungrouped` (made before any line is read) take the `where` the file first names them at. */
  addGroup(name: string, where: Where): void {
    if (name === '') throw new BuildError('a group name is empty; name the group')
    const group = this.groups.get(name)
    if (group === undefined) {
      this.groups.set(name, { name, hosts: [], children: [], vars: new Map(), where })
      this.parents.set(name, [])
    } else if (group.where === '') {
      group.where = where
    }
  }

  /** `port` counts only where the host is created, as in ansible-core (and 0 not at all). */
  addHost(name: string, group: string, port: number | undefined, where: Where): void {
    if (name === '') throw new BuildError('a host name is empty; write a host name or address')
    if (!this.hosts.has(name)) {
      if (this.hosts.size >= MAX_INVENTORY_HOSTS) throw new BuildError(`more than ${MAX_INVENTORY_HOSTS} hosts; at most ${MAX_INVENTORY_HOSTS} are read`)
      const host: Host = { name, vars: new Map(), where }
      if (port !== undefined && port !== 0) host.vars.set('ansible_port', { value: port, where })
      this.hosts.set(name, host)
      this.memberOf.set(name, new Set())
    }
    this.addHostTo(this.group(group), name)
  }

  /**
   * A var of the group or host `entity`. As in ansible-core, a group of that name takes it even when a
   * host is meant (a host var of host `web` lands on group `web` when both exist). Last written wins.
   */
  setVar(entity: string, key: string, value: VarValue, where: Where): void {
    const target = this.groups.get(entity) ?? this.hosts.get(entity)
    if (target === undefined) throw new BuildError(`${entity} is neither a group nor a host`)
    target.vars.set(key, { value, where })
  }

  /** ansible-core's add_child: `child` is a group if one has that name, else a host. */
  addChild(parent: string, child: string): void {
    const group = this.group(parent)
    if (this.groups.has(child)) this.addChildGroup(group, child)
    else if (this.hosts.has(child)) this.addHostTo(group, child)
    else throw new BuildError(`${child} is neither a group nor a host`)
  }

  /** reconcile_inventory, then the result; `source` names the file in an error. */
  finish(source: string): Inventory {
    try {
      return this.reconcile(source)
    } catch (err) {
      if (err instanceof BuildError) throw new InventoryError(`${source}: ${err.message}`)
      throw err
    }
  }

  private reconcile(source: string): Inventory {
    for (const group of this.groups.values()) {
      if (group.name === 'all' || this.parents.get(group.name)!.length > 0) continue
      if (this.ancestors('all').has(group.name)) {
        const at = group.where === '' ? '' : ` ${group.where}`
        throw new InventoryError(`${source}${at}: group ${group.name} has no parent, so it becomes a child of all, but all is below it; all cannot be a child`)
      }
      this.addChild('all', group.name)
    }
    const ungrouped = this.group('ungrouped')
    // A host's groups in ansible-core are those it is in and all their ancestors; two questions about them suffice.
    const inUngrouped = this.reaches((g) => g === 'ungrouped')
    const inOther = this.reaches((g) => g !== 'all' && g !== 'ungrouped')
    const regrouped = new Set<string>()
    for (const [host, direct] of this.memberOf) {
      const groups = [...direct]
      if (groups.some(inUngrouped)) {
        // ansible-core drops a host from `ungrouped` once it is in any other group.
        if (direct.has('ungrouped') && groups.some(inOther)) regrouped.add(host)
      } else if (groups.every((g) => g === 'all')) {
        this.addChild('ungrouped', host)
      }
    }
    ungrouped.hosts = ungrouped.hosts.filter((h) => !regrouped.has(h))
    for (const host of regrouped) this.memberOf.get(host)!.delete('ungrouped')
    return { groups: this.groups, hosts: this.hosts, ignored: this.ignored }
  }

  private group(name: string): Group {
    const group = this.groups.get(name)
    if (group === undefined) throw new BuildError(`${name} is not a group`)
    return group
  }

  private addChildGroup(parent: Group, child: string): void {
    if (parent.name === child) throw new BuildError(`group ${child} is listed as its own child`)
    if (parent.children.includes(child)) return
    if (this.ancestors(parent.name).has(child)) {
      throw new BuildError(`making ${child} a child of ${parent.name} makes a loop: ${child} is already an ancestor of ${parent.name}`)
    }
    parent.children.push(child)
    this.parents.get(child)!.push(parent.name)
  }

  private addHostTo(group: Group, host: string): void {
    const groups = this.memberOf.get(host)!
    if (groups.has(group.name)) return
    group.hosts.push(host)
    groups.add(group.name)
  }

  /** Whether a group or one of its ancestors is `wanted`, remembered per group. */
  private reaches(wanted: (group: string) => boolean): (group: string) => boolean {
    const known = new Map<string, boolean>()
    return (group) => {
      const cached = known.get(group)
      if (cached !== undefined) return cached
      const found = wanted(group) || [...this.ancestors(group)].some(wanted)
      known.set(group, found)
      return found
    }
  }

  private ancestors(name: string): Set<string> {
    const seen = new Set<string>()
    const todo = [...this.parents.get(name)!]
    for (let g = todo.pop(); g !== undefined; g = todo.pop()) {
      if (seen.has(g)) continue
      seen.add(g)
      todo.push(...this.parents.get(g)!)
    }
    return seen
  }
}
