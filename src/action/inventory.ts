/**
 * The `inventory`, `select` and `batch-by` inputs: an Ansible inventory (text, or a file in the
 * workspace) read as ansible-core reads it, the hosts `select` names, each with its own address,
 * port, user, key or password (from files on the runner and environment variables the workflow
 * maps from secrets), bastion and variables. Everything is checked before any host is contacted.
 */
import { homedir } from 'node:os'
import type { ParsedKey } from 'ssh2'
import { parseInventory } from '../engine/inventory/parse.js'
import { selectHosts } from '../engine/inventory/pattern.js'
import { batchByGroup } from '../engine/inventory/batch.js'
import { groupNames, hostVars } from '../engine/inventory/vars.js'
import { hostConnection, USED_VARS } from '../engine/inventory/connection.js'
import { InventoryError } from '../engine/inventory/types.js'
import type { Credentials, HostTarget } from '../engine/model.js'
import { MAX_HOSTS } from '../engine/targets/hosts.js'
import { parseJumpHost } from '../engine/targets/jump-target.js'
import { quote } from '../engine/parse.js'
import { readPrivateKey } from './credentials.js'
import { InputError } from './input-error.js'
import { loadWorkspaceFile } from './local-files.js'

export interface InventoryPlan {
  /** The selected hosts in run order: Ansible's inventory order, or group by group with batch-by: group. */
  targets: HostTarget[]
  /** With batch-by: group, the group each target is batched with (in step with targets); else null. */
  batchGroups: string[] | null
  /** Each distinct bastion the inventory names, by HostTarget.inventory.jump. */
  bastions: Map<string, HostTarget>
  /** Values read from environment variables (keys, passwords): masked before anything is printed. */
  secrets: string[]
  /** One line on what the inventory holds that ssh-fanout does not use, or null. */
  warning: string | null
}

export interface InventoryContext {
  inventory: string
  select: string
  batchBy: string
  workspace: string
  /** The username and port inputs: for hosts that name none. */
  username: string
  port: number
  passphrase: string
  env: NodeJS.ProcessEnv
}

const MAX_INVENTORY_BYTES = 8 * 1024 * 1024
const MAX_KEY_BYTES = 64 * 1024

export function readInventory(ctx: InventoryContext): InventoryPlan {
  if (ctx.batchBy !== '' && ctx.batchBy !== 'group')
    throw new InputError('batch-by', `${quote(ctx.batchBy)} is not accepted; give group (batches never mix groups), or leave it empty`)
  const { text, source } = inventoryText(ctx)
  const inv = guarded('inventory', () => parseInventory(text, source))
  const selected = guarded('select', () => selectHosts(inv, ctx.select))
  if (selected.length > MAX_HOSTS)
    throw new InputError('select', `selects ${selected.length} hosts; at most ${MAX_HOSTS} are allowed, so split them across several steps`)
  const batches = ctx.batchBy === 'group' ? batchByGroup(inv, ctx.select, selected) : null
  const names = batches ? batches.flatMap((b) => b.hosts) : selected
  const keys = new KeyReader(ctx)
  const bastions = new Map<string, HostTarget>()
  const ignored = new Set<string>(inv.ignored)
  const targets = names.map((name) => {
    const vars = hostVars(inv, name)
    for (const key of vars.keys()) if ((key.startsWith('ansible_') || key.startsWith('ssh_fanout_')) && !USED_VARS.has(key)) ignored.add(key)
    const conn = guarded('inventory', () => hostConnection(name, vars))
    for (const arg of conn.ignoredArgs) ignored.add(`ansible_ssh_common_args ${arg}`)
    const username = conn.user ?? ctx.username
    if (username === '')
      throw new InputError(
        'username',
        `is empty and ${name} has no ansible_user in the inventory; set ansible_user for it (or its group), or the username input`,
      )
    const jump =
      conn.jump === null
        ? undefined
        : bastionKey(
            guarded('inventory', () => bastionOf(conn.jump!, name, ctx.username)),
            bastions,
          )
    const target: HostTarget = {
      host: conn.address.replace(/^\[(.*)\]$/, '$1'),
      port: conn.port ?? ctx.port,
      username,
      label: name,
      inventory: { name, groups: groupNames(inv, name), credentials: keys.credentialsOf(name, conn), env: conn.env, jump },
    }
    return target
  })
  return {
    targets,
    batchGroups: batches ? batches.flatMap((b) => b.hosts.map(() => b.group)) : null,
    bastions,
    secrets: keys.secrets,
    warning:
      ignored.size > 0
        ? `inventory: not used by ssh-fanout, ignored: ${[...ignored].sort().slice(0, 30).join(', ')}${ignored.size > 30 ? `, and ${ignored.size - 30} more` : ''}`
        : null,
  }
}

/** The inventory as given: a single line naming a file (in the workspace, or absolute) is read from it; else the text itself. */
function inventoryText(ctx: InventoryContext): { text: string; source: string } {
  const value = ctx.inventory.trim()
  const oneLine = !/[\r\n]/.test(value)
  const looksLikePath =
    oneLine && /^[^\s=]+$/.test(value) && (/[/\\]/.test(value) || /\.(ya?ml|ini|cfg|txt|hosts)$/i.test(value) || value === 'hosts' || value === 'inventory')
  if (!looksLikePath) return { text: ctx.inventory, source: 'inventory' }
  const bytes = guarded('inventory', () =>
    loadWorkspaceFile(value, ctx.workspace, MAX_INVENTORY_BYTES, {
      example:
        'give the path of an inventory in the repository (check it out first with actions/checkout), e.g. deploy/inventory.yml, or the inventory text itself',
      what: 'an Ansible inventory (YAML or INI)',
      tooBig: '8 MiB',
    }),
  )
  return { text: bytes.toString('utf8'), source: value }
}

function guarded<T>(input: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof InputError) throw err
    if (err instanceof InventoryError || err instanceof Error) throw new InputError(input, err.message)
    throw err
  }
}

function bastionOf(spec: string, host: string, username: string): HostTarget {
  try {
    return parseJumpHost(spec, username)
  } catch (err) {
    throw new InventoryError(`the bastion of ${host} (${JSON.stringify(spec)}): ${(err as Error).message}`)
  }
}

/** Two spellings of one bastion (`bastion` and `deploy@bastion:22` with username deploy) share one key, so one session. */
function bastionKey(bastion: HostTarget, bastions: Map<string, HostTarget>): string {
  const key = `${bastion.username}@${bastion.host}:${bastion.port}`
  if (!bastions.has(key)) bastions.set(key, { ...bastion, label: bastion.port === 22 ? `${bastion.username}@${bastion.host}` : bastion.label })
  return key
}

/** Each host's own key (ssh_fanout_key_env over ansible_ssh_private_key_file) and password (ssh_fanout_password_env), read once each. */
class KeyReader {
  readonly secrets: string[] = []
  private readonly parsed = new Map<string, ParsedKey>()
  constructor(private readonly ctx: InventoryContext) {}

  credentialsOf(host: string, conn: { keyEnv: string | null; keyFile: string | null; passwordEnv: string | null }): Credentials | undefined {
    const key = conn.keyEnv ? this.fromEnv(host, conn.keyEnv) : conn.keyFile ? this.fromFile(host, conn.keyFile) : undefined
    const password = conn.passwordEnv ? this.envValue(host, 'ssh_fanout_password_env', conn.passwordEnv) : undefined
    if (!key && password === undefined) return undefined
    return { ...(key ? { privateKey: key } : {}), ...(password !== undefined ? { password } : {}) }
  }

  private envValue(host: string, varName: string, name: string): string {
    const value = this.ctx.env[name]
    if (value === undefined || value.trim() === '') {
      throw new InputError(
        'inventory',
        `${host}: ${varName} names ${name}, which is not set (or empty) in the step's environment; map it from a secret in the workflow: env: { ${name}: \${{ secrets.${name} }} }`,
      )
    }
    for (const line of value.split(/\r?\n/)) if (line.trim() !== '' && !this.secrets.includes(line.trim())) this.secrets.push(line.trim())
    if (!this.secrets.includes(value)) this.secrets.push(value)
    return value
  }

  private fromEnv(host: string, name: string): ParsedKey {
    const cached = this.parsed.get(`env:${name}`)
    if (cached) return cached
    const key = this.read(host, `${this.envValue(host, 'ssh_fanout_key_env', name).trim()}\n`, `the key in ${name}`)
    this.parsed.set(`env:${name}`, key)
    return key
  }

  private fromFile(host: string, path: string): ParsedKey {
    const full = path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path
    const cached = this.parsed.get(`file:${full}`)
    if (cached) return cached
    const bytes = guarded('inventory', () =>
      loadWorkspaceFile(full, this.ctx.workspace, MAX_KEY_BYTES, {
        example: `fix ansible_ssh_private_key_file of ${host}: give the path of a private key on the runner (written there by an earlier step), or use ssh_fanout_key_env`,
        what: 'a private key file',
        tooBig: '64 kB: it is not a private key',
      }),
    )
    const key = this.read(host, bytes.toString('utf8'), `the key file ${path}`)
    this.parsed.set(`file:${full}`, key)
    return key
  }

  private read(host: string, text: string, what: string): ParsedKey {
    try {
      return readPrivateKey(text, this.ctx.passphrase, 'inventory')
    } catch (err) {
      throw new InputError('inventory', `${host}: ${what}: ${(err as Error).message.replace(/^Input "[^"]+": /, '')}`)
    }
  }
}
