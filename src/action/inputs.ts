import { envPrefix, parseEnv, type EnvVar } from '../engine/targets/env.js'
import { MAX_RETRIES } from '../engine/fanout/fanout.js'
import { checkUsername, parseHosts, resolveTargets, TargetError } from '../engine/targets/hosts.js'
import { parseJumpHost } from '../engine/targets/jump-target.js'
import { parseFingerprints, parseKnownHosts, type FingerprintRule, type KnownHosts } from '../engine/trust/known-hosts.js'
import { parseBoolean, parseDuration, parsePositiveInt, parseSize, parseThreshold, quote, type Threshold } from '../engine/parse.js'
import type { HostTarget, Credentials } from '../engine/model.js'
import { parseBatchSize, parseShard, shardSlice, type BatchSpec, type Shard } from '../engine/targets/rollout.js'
import type { Script } from '../engine/prepare/script.js'
import { resolveRemoteDir } from '../engine/prepare/upload.js'
import { loadScriptFile, resolveLogDir } from './local-files.js'
import { readCredentials } from './credentials.js'
import type { InventoryContext, InventoryPlan } from './inventory.js'
import { InputError, type InputReader } from './input-error.js'

export { InputError, type InputReader } from './input-error.js'
import { readSafety, type RolloutSafety } from './safety-inputs.js'
import { readLock, type LockSettings } from './lock-inputs.js'

export type { RolloutSafety } from './safety-inputs.js'

/** Everything the action needs, validated and typed. Built before any host is contacted. */
export interface Settings {
  /** The hosts this job runs: the expanded host list, or this shard's slice of it. */
  targets: HostTarget[]
  /** Hosts in the whole list, before sharding. */
  totalHosts: number
  /** With an inventory and batch-by: group, the group each target is batched with (in step with targets). */
  batchGroups: string[] | null
  /** The bastions an inventory names, by HostTarget.inventory.jump (empty without). */
  bastions: Map<string, HostTarget>
  /** Keys and passwords read from environment variables the inventory names: masked before anything is printed. */
  inventorySecrets: string[]
  /** The select input, with an inventory; null with hosts. */
  select: string | null
  /** What the inventory holds that is not used (one warning), or null. */
  inventoryWarning: string | null
  shard: Shard | null
  /** Rolling batches; null runs every host in one pool. */
  batchSize: BatchSpec | null
  batchPauseMs: number
  /** The bastion every target is reached through, or null. */
  jumpHost: HostTarget | null
  /** The user's command as given ('' when script-file is used). */
  command: string
  /** The script-file run instead of a command: its path as given, and its bytes. */
  script: (Script & { path: string }) | null
  env: EnvVar[]
  /** The environment prefix every remote command starts with. */
  envPrefix: string
  /** Files sent to every host before its command: the `upload` patterns, and `upload-to` as given. */
  upload: { patterns: string; remoteDir: string } | null
  /** Absolute path of the directory that receives each host's log and results.json, or null. */
  logDir: string | null
  /** Where relative local paths (script-file, log-dir) are read from: GITHUB_WORKSPACE, else the working directory. */
  workspace: string
  credentials: Credentials
  strictHostKeyChecking: boolean
  knownHosts: KnownHosts | null
  fingerprints: FingerprintRule[]
  concurrency: number
  connectTimeoutMs: number
  commandTimeoutMs: number
  maxFailures: Threshold
  failFast: boolean
  retries: number
  maxOutputBytes: number
  /** Safe rollouts: preflight, the health gate and the rollback, as the engine takes them. */
  safety: RolloutSafety
  /** The fleet lock taken before any host runs anything, or null. */
  lock: LockSettings | null
}

/** The defaults of action.yml, applied when an input is empty (e.g. when run outside the runner). */
export const DEFAULTS: Readonly<Record<string, string>> = {
  hosts: '',
  inventory: '',
  select: 'all',
  'batch-by': '',
  username: '',
  port: '22',
  'strict-host-key-checking': 'true',
  concurrency: '10',
  'connect-timeout': '30s',
  'command-timeout': '10m',
  'max-failures': '0',
  'report-from': '',
  'fail-fast': 'true',
  retries: '2',
  'max-output': '10MB',
  'batch-size': '',
  'batch-pause': '0',
  'jump-host': '',
  shard: '',
  upload: '',
  'upload-to': '',
  'script-file': '',
  'log-dir': '',
  mask: '',
  preflight: 'false',
  'preflight-command': '',
  'check-command': '',
  'check-interval': '5s',
  'check-timeout': '1m',
  'rollback-command': '',
  lock: '',
  'lock-host': '',
  'lock-wait': '0',
}

/** Reads inputs the way the runner passes them: `INPUT_<NAME upper-cased, spaces as _>`. Not trimmed. */
export function readInputFromEnv(name: string): string {
  return process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? ''
}

/**
 * `env` values shorter than this (`1`, `true`, `prod`) are not masked: masking them would
 * replace every such word in every log and file. A shorter secret goes in the `mask` input.
 */
export const MIN_ENV_MASK_LENGTH = 6

/**
 * Every value masked before anything is printed (::add-mask::, so the job log masks it) and in
 * every file the action writes (log-dir, results.json, results-file): `password`,
 * `passphrase`, every line of `private-key`, every `env` value of MIN_ENV_MASK_LENGTH
 * characters or more (trimmed), and every line of `mask` (trimmed, whatever its length).
 * Validates nothing (it runs before getSettings), and never throws.
 */
export function secretValues(read: InputReader): string[] {
  const lines = (text: string) =>
    text
      .split(/\r?\n|\r/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
  // env is read as parseEnv reads it (the value is everything after the first =), bad lines included: they are not shown either
  const envValues = read('env')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#') && l.includes('='))
    .map((l) => l.slice(l.indexOf('=') + 1).trim())
    .filter((v) => v.length >= MIN_ENV_MASK_LENGTH)
  const values = [read('password'), read('passphrase'), ...lines(read('private-key')), ...envValues, ...lines(read('mask'))].filter((v) => v.trim().length > 0)
  return [...new Set(values)]
}

/** The inventory reader (action/inventory.ts and the parsers with `yaml`): loaded only when inventory is set. */
export type InventoryReader = typeof import('./inventory.js')

/** getSettings, with the inventory reader loaded first when the inventory input is set (so start-up never compiles it otherwise). */
export async function loadSettings(read: InputReader, env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const inventory = read('inventory').trim() === '' ? undefined : await import('./inventory.js')
  return getSettings(read, env, inventory)
}

export function getSettings(read: InputReader, env: NodeJS.ProcessEnv = process.env, inventoryReader?: InventoryReader): Settings {
  const get = (name: string) => {
    const value = read(name).trim()
    return value === '' ? (DEFAULTS[name] ?? '') : value
  }
  const parse = <T>(name: string, parser: (text: string) => T): T => {
    try {
      return parser(get(name))
    } catch (err) {
      throw err instanceof InputError ? err : new InputError(name, (err as Error).message)
    }
  }

  const port = parse('port', (t) => {
    const n = /^\d+$/.test(t) ? Number(t) : NaN
    if (!(n >= 1 && n <= 65535)) throw new Error(`${quote(t)} is not a valid port; use a whole number from 1 to 65535`)
    return n
  })
  const username = get('username') === '' ? '' : parse('username', checkUsername)
  const workspace = env.GITHUB_WORKSPACE || process.cwd()
  const inventory = readHostsOrInventory(read, get, { workspace, username, port, env }, inventoryReader)
  const allTargets = inventory?.targets ?? parse('hosts', (t) => hostTargets(t, username, port))
  const shard = parse('shard', parseShard)
  const jumpHost = get('jump-host') === '' ? null : parse('jump-host', (t) => parseJumpHost(t, username))

  const command = get('command')
  const script = get('script-file') === '' ? null : parse('script-file', (t) => loadScriptFile(t, workspace))
  if (command === '' && script === null) {
    throw new InputError(
      'command',
      'is required: give the command (or a multi-line script) to run on every host, or a script from the repository in script-file',
    )
  }
  if (command !== '' && script !== null) {
    throw new InputError(
      'script-file',
      'and command are both set; give exactly one: command for an inline command, or script-file for a script file to run instead',
    )
  }
  // env values are kept byte for byte: not trimmed.
  const envVars = parse('env', () => parseEnv(read('env')))
  const prefix = envPrefix(envVars)
  const upload = readUpload(read, get)

  // Without the credential inputs, an inventory whose every host brings its own key or password is enough.
  const credentials = readCredentials(read, env, !inventory || inventory.targets.some((t) => !t.inventory?.credentials))
  const strict = parse('strict-host-key-checking', parseBoolean)
  const knownHosts = get('known-hosts') === '' ? null : parseKnownHosts(read('known-hosts'))
  const fingerprints = parse('fingerprints', parseFingerprints)
  if (strict && knownHosts !== null && fingerprints.length === 0) checkTrustsSomeKey(knownHosts)
  if (strict && knownHosts === null && fingerprints.length === 0) {
    throw new InputError(
      'known-hosts',
      'strict-host-key-checking is on, but neither known-hosts nor fingerprints is set, so no host key can be trusted. ' +
        'Put the output of `ssh-keyscan -p PORT HOST` (verified out of band) into known-hosts, or the host key fingerprints ' +
        '(`ssh-keygen -l -f key.pub`, or those printed by a run with strict-host-key-checking: false) into fingerprints',
    )
  }

  const commandTimeoutMs = parse('command-timeout', parseDuration)
  const connectTimeoutMs = parse('connect-timeout', parseDuration)
  if (connectTimeoutMs <= 0) throw new InputError('connect-timeout', 'must be more than 0 (e.g. 30s)')
  const safety = readSafety({ get, parse })

  return {
    targets: shardSlice(allTargets, shard),
    totalHosts: allTargets.length,
    batchGroups: inventory?.batchGroups ? shardSlice(inventory.batchGroups, shard) : null,
    bastions: inventory?.bastions ?? new Map<string, HostTarget>(),
    inventorySecrets: inventory?.secrets ?? [],
    inventoryWarning: inventory?.warning ?? null,
    select: inventory ? get('select') : null,
    shard,
    batchSize: parse('batch-size', parseBatchSize),
    batchPauseMs: parse('batch-pause', parseDuration),
    jumpHost,
    command,
    script,
    env: envVars,
    envPrefix: prefix,
    upload,
    logDir: get('log-dir') === '' ? null : parse('log-dir', (t) => resolveLogDir(t, workspace)),
    workspace,
    credentials,
    strictHostKeyChecking: strict,
    knownHosts,
    fingerprints,
    concurrency: parse('concurrency', (t) => parsePositiveInt(t, 1)),
    connectTimeoutMs,
    commandTimeoutMs,
    maxFailures: parse('max-failures', parseThreshold),
    failFast: parse('fail-fast', parseBoolean),
    retries: parse('retries', (t) => parsePositiveInt(t, 0, MAX_RETRIES)),
    maxOutputBytes: parse('max-output', parseSize),
    safety,
    lock: readLock(get, parse, allTargets),
  }
}

/** The hosts input's targets (user and port defaults applied). */
function hostTargets(text: string, username: string, port: number): HostTarget[] {
  const entries = parseHosts(text)
  try {
    return resolveTargets(entries, { username, port })
  } catch (err) {
    throw err instanceof TargetError && err.reason === 'missing-username' ? new InputError('username', err.message) : err
  }
}

/** Exactly one of hosts and inventory: the inventory's plan, or null for hosts. */
function readHostsOrInventory(
  read: InputReader,
  get: (name: string) => string,
  ctx: Omit<InventoryContext, 'inventory' | 'select' | 'batchBy' | 'passphrase'>,
  reader: InventoryReader | undefined,
): InventoryPlan | null {
  const hosts = read('hosts').trim()
  const inventory = read('inventory').trim()
  if (hosts !== '' && inventory !== '') {
    throw new InputError(
      'inventory',
      'and hosts are both set; give exactly one: hosts for a list of hosts, or inventory for an Ansible inventory (with select to pick hosts from it)',
    )
  }
  if (inventory === '') {
    // The runner passes every default (select: all), so only another value is a mistake.
    for (const name of ['select', 'batch-by']) {
      if (get(name) !== DEFAULTS[name]) throw new InputError(name, 'is set but inventory is empty; it selects from an Ansible inventory given in inventory')
    }
    if (hosts === '')
      throw new InputError(
        'hosts',
        'no hosts given; list hosts one per line or separated by commas or spaces, e.g. web1.example.com, deploy@10.0.0.5:2222, or give an Ansible inventory in inventory',
      )
    return null
  }
  if (!reader) throw new Error('internal error: the inventory reader was not loaded (use loadSettings)')
  return reader.readInventory({ ...ctx, inventory: read('inventory'), select: get('select'), batchBy: get('batch-by'), passphrase: read('passphrase') })
}

const UPLOAD_TO_FORM = 'give an absolute path (/srv/app/releases), or one relative to the login directory (app, ~/app)'

/** `upload` and `upload-to` go together; the patterns are matched later, once, before any host is contacted. */
function readUpload(read: InputReader, get: (name: string) => string): Settings['upload'] {
  const patterns = read('upload')
  const remoteDir = get('upload-to')
  if (patterns.trim() === '') {
    if (remoteDir !== '')
      throw new InputError('upload-to', 'is set but upload is empty; list the files to send in upload (one path or glob per line, e.g. dist/)')
    return null
  }
  if (remoteDir === '') throw new InputError('upload-to', `is required when upload is set: the directory on every host the files land in; ${UPLOAD_TO_FORM}`)
  try {
    resolveRemoteDir(remoteDir)
  } catch (err) {
    throw new InputError('upload-to', `${(err as Error).message}`)
  }
  return { patterns, remoteDir }
}

/** With strict checking and no fingerprints, known-hosts must have a plain line: @revoked and @cert-authority lines trust no key. */
function checkTrustsSomeKey(knownHosts: KnownHosts): void {
  if (knownHosts.entries.some((e) => e.marker === null)) return
  const form = 'Each line is "HOST-PATTERNS KEY-TYPE BASE64-KEY", as ssh-keyscan prints it'
  const marked = knownHosts.entries.map((e) => e.line)
  if (marked.length > 0) {
    throw new InputError(
      'known-hosts',
      `has only @revoked or @cert-authority lines (${listLines(marked)}), which trust no host key, so every host would be refused. ` +
        `Add the hosts' keys as plain lines (${form}), or pin them in fingerprints`,
    )
  }
  const shown = knownHosts.warnings.slice(0, 3).join('; ')
  const more = knownHosts.warnings.length > 3 ? `; and ${knownHosts.warnings.length - 3} more` : ''
  throw new InputError('known-hosts', `has no usable known_hosts line (${shown + more || 'only comments'}). ${form}`)
}

function listLines(lines: number[]): string {
  const shown = lines.slice(0, 5).join(', ')
  return `line${lines.length > 1 ? 's' : ''} ${shown}${lines.length > 5 ? ` and ${lines.length - 5} more` : ''}`
}
