/**
 * An Ansible inventory as ansible-core holds it once parsed (InventoryData after
 * reconcile_inventory): groups and hosts in creation order, each with its own vars. The parsers
 * (INI, YAML) build it; the semantics (host order, vars precedence, group_names, patterns) read it.
 */

/** A var's value as YAML (or Ansible's INI value parsing) gives it. */
export type VarValue = string | number | boolean | null | VarValue[] | { [key: string]: VarValue }

/**
 * Where something was written, for error messages: `line 12` (INI) or `all.children.web.vars.ansible_user (line 7)`
 * (YAML key path and line); `''` for `all` and `ungrouped` when the file never names them.
 */
export type Where = string

export interface Var {
  value: VarValue
  where: Where
}

export interface Group {
  name: string
  /** Hosts directly in this group, in the order first added (names, after range expansion). */
  hosts: string[]
  /** Child group names, in the order first added. */
  children: string[]
  /** The group's own vars (ansible_group_priority among them, as written). */
  vars: Map<string, Var>
  where: Where
}

export interface Host {
  /** The inventory name (after range expansion), e.g. `web01`. */
  name: string
  /** The host's own vars (a `host:port` in the file is `ansible_port` here). */
  vars: Map<string, Var>
  where: Where
}

/**
 * Groups include `all` and `ungrouped` (created first, as ansible-core does; `ungrouped` is
 * all's first child); every group without a parent is a child of `all`; a host in no group but
 * `all` is in `ungrouped`. Maps iterate in creation order.
 */
export interface Inventory {
  groups: Map<string, Group>
  hosts: Map<string, Host>
  /** What the parser read and does not use (e.g. `plugin: aws_ec2` keys), for one warning. */
  ignored: string[]
}

/** A mistake in the inventory or the pattern: the message names the line or key path and says what is wrong. */
export class InventoryError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InventoryError'
  }
}
