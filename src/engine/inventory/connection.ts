/**
 * What a host's merged vars say about reaching it: address, port, user, its key (a file on the
 * runner, or an environment variable), its password (an environment variable only), its
 * bastion, and the vars it passes to the command. Pure: reading files and the environment is
 * the action's. Jinja is not evaluated: in a var used here it is an error naming the var.
 */
import { shlexSplit } from './shlex.js'
import { InventoryError, type Var, type VarValue } from './types.js'

export interface HostConnection {
  /** What is connected to: ansible_host, else the inventory name. */
  address: string
  port: number | null
  user: string | null
  /** ansible_ssh_private_key_file (as written: a path on the runner). */
  keyFile: string | null
  /** ssh_fanout_key_env: the environment variable holding the private key text. */
  keyEnv: string | null
  /** ssh_fanout_password_env: the environment variable holding the password. */
  passwordEnv: string | null
  /** `[user@]host[:port]` of the bastion (ssh_fanout_jump_host, else -J / ProxyJump in ansible_ssh_common_args). */
  jump: string | null
  /** ssh_fanout_env's vars, as the command gets them. */
  env: Array<{ name: string; value: string }>
  /** Options of ansible_ssh_common_args other than the bastion, ignored (for the one warning). */
  ignoredArgs: string[]
}

/** Vars this reads (the rest is ignored; the ansible_* among them are named in one warning). */
export const USED_VARS: ReadonlySet<string> = new Set([
  'ansible_host',
  'ansible_ssh_host',
  'ansible_port',
  'ansible_ssh_port',
  'ansible_user',
  'ansible_ssh_user',
  'ansible_ssh_private_key_file',
  'ansible_private_key_file',
  'ansible_ssh_common_args',
  'ansible_group_priority',
  'ssh_fanout_key_env',
  'ssh_fanout_password_env',
  'ssh_fanout_jump_host',
  'ssh_fanout_env',
])

const PASSWORD_VARS = ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password']
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The connection settings of host `name` from its merged vars. Throws InventoryError naming the var and where it was set. */
export function hostConnection(name: string, vars: ReadonlyMap<string, Var>): HostConnection {
  for (const v of PASSWORD_VARS) {
    const found = vars.get(v)
    if (found) {
      throw new InventoryError(
        `${found.where}: ${v} is set for ${name}; a password does not belong in the repository. ` +
          'Put it in a secret, map it to an environment variable in the workflow (env: { WEB_PASSWORD: ${{ secrets.WEB_PASSWORD }} }), and name that variable in ssh_fanout_password_env',
      )
    }
  }
  const text = (key: string, alias?: string): string | null => {
    const v = vars.get(key) ?? (alias ? vars.get(alias) : undefined)
    if (!v) return null
    return scalar(alias && !vars.has(key) ? alias : key, v)
  }
  const portText = text('ansible_port', 'ansible_ssh_port')
  const port = portText === null ? null : Number(portText)
  if (port !== null && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    const v = vars.get('ansible_port') ?? vars.get('ansible_ssh_port')!
    throw new InventoryError(`${v.where}: the port of ${name} is ${JSON.stringify(portText)}; give a whole number from 1 to 65535`)
  }
  const common = text('ansible_ssh_common_args')
  const { jump: argsJump, ignored } = common === null ? { jump: null, ignored: [] } : proxyJump(common, vars.get('ansible_ssh_common_args')!.where)
  return {
    address: text('ansible_host', 'ansible_ssh_host') ?? name,
    port,
    user: text('ansible_user', 'ansible_ssh_user'),
    keyFile: text('ansible_ssh_private_key_file', 'ansible_private_key_file'),
    keyEnv: envName(vars, 'ssh_fanout_key_env'),
    passwordEnv: envName(vars, 'ssh_fanout_password_env'),
    jump: text('ssh_fanout_jump_host') ?? argsJump,
    env: listedEnv(name, vars),
    ignoredArgs: ignored,
  }
}

/** A var used as text: strings as they are, numbers in decimal, booleans as true/false; anything else, or Jinja, is an error. */
function scalar(key: string, v: Var): string {
  const value = asEnvText(v.value)
  if (value === null) throw new InventoryError(`${v.where}: ${key} is ${describe(v.value)}; give a string, a number or a boolean`)
  if (/\{\{|\{%/.test(value)) {
    throw new InventoryError(
      `${v.where}: ${key} uses Jinja (${JSON.stringify(value.slice(0, 60))}), which ssh-fanout does not evaluate; write the value itself`,
    )
  }
  return value
}

function asEnvText(value: VarValue): string | null {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  return null
}

function describe(value: VarValue): string {
  if (value === null) return 'empty (null)'
  return Array.isArray(value) ? 'a list' : 'a mapping'
}

function envName(vars: ReadonlyMap<string, Var>, key: string): string | null {
  const v = vars.get(key)
  if (!v) return null
  const name = scalar(key, v)
  if (!ENV_NAME.test(name)) throw new InventoryError(`${v.where}: ${key} is ${JSON.stringify(name)}, not an environment variable name (letters, digits and _)`)
  return name
}

/** ssh_fanout_env: the names of vars passed to the command; each must be set for the host. */
function listedEnv(host: string, vars: ReadonlyMap<string, Var>): Array<{ name: string; value: string }> {
  const list = vars.get('ssh_fanout_env')
  if (!list) return []
  const names = Array.isArray(list.value) ? list.value : typeof list.value === 'string' ? list.value.split(/[\s,]+/).filter(Boolean) : null
  if (names === null || names.some((n) => typeof n !== 'string')) {
    throw new InventoryError(`${list.where}: ssh_fanout_env must be a list of var names, e.g. [DEPLOY_ROLE, REGION]`)
  }
  return (names as string[]).map((name) => {
    if (!ENV_NAME.test(name))
      throw new InventoryError(`${list.where}: ssh_fanout_env lists ${JSON.stringify(name)}, not an environment variable name (letters, digits and _)`)
    if (name === 'SSH_FANOUT_RUN')
      throw new InventoryError(`${list.where}: ssh_fanout_env lists SSH_FANOUT_RUN, which ssh-fanout sets itself; use another name`)
    const v = vars.get(name)
    if (!v) throw new InventoryError(`${list.where}: ssh_fanout_env lists ${name}, but ${host} has no var ${name}`)
    return { name, value: scalar(name, v) }
  })
}

/** The bastion of `-J spec` or `-o ProxyJump=spec` in ansible_ssh_common_args, and the other options (ignored). */
export function proxyJump(args: string, where: string): { jump: string | null; ignored: string[] } {
  // As ansible-core's ssh plugin splits them (Python's shlex.split).
  const words = shlexSplit(args)
  let jump: string | null = null
  const ignored: string[] = []
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i]
    let spec: string
    if (w === '-J') spec = words[++i] ?? ''
    else if (w.startsWith('-J')) spec = w.slice(2)
    else if (w === '-o' && /^ProxyJump[= ]/i.test(words[i + 1] ?? '')) spec = words[++i].replace(/^ProxyJump[= ]\s*/i, '')
    else if (/^-oProxyJump[= ]/i.test(w)) spec = w.replace(/^-oProxyJump[= ]\s*/i, '')
    else {
      if (w === '-o' && words[i + 1] !== undefined) ignored.push(`-o ${words[++i]}`)
      else ignored.push(w)
      continue
    }
    if (spec === '' || spec.includes(',')) {
      throw new InventoryError(
        `${where}: ansible_ssh_common_args names ${spec === '' ? 'no bastion after -J' : `several bastions (${spec})`}; give one [user@]host[:port]`,
      )
    }
    jump = spec.replace(/^ssh:\/\//, '')
  }
  return { jump, ignored }
}
