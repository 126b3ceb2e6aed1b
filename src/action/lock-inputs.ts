/** The fleet lock's inputs: lock, lock-host, lock-wait, github-token (see lock.ts for what is done with them). */
import { parseDuration, quote } from '../engine/parse.js'
import { hostLabel } from '../engine/targets/hosts.js'
import type { HostTarget } from '../engine/model.js'
import { InputError } from './input-error.js'

export interface LockSettings {
  name: string
  /** The host that keeps the lock: the same for every shard (chosen from the list before sharding). */
  host: HostTarget
  waitMs: number
  /** '' when none: the Actions API is then not asked. */
  githubToken: string
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/

/** null without `lock`; lock-host and lock-wait are then not read (the runner passes their defaults). */
export function readLock(
  get: (name: string) => string,
  parse: <T>(name: string, parser: (text: string) => T) => T,
  allTargets: HostTarget[],
): LockSettings | null {
  const name = get('lock')
  if (name === '') {
    if (get('lock-host') !== '') throw new InputError('lock-host', 'is set but lock is empty; give the lock a name in lock (e.g. deploy-prod)')
    return null
  }
  // `.` and `..` (and any name without a letter or digit) would not name a lock directory of its own.
  if (!NAME.test(name) || !/[A-Za-z0-9]/.test(name)) {
    throw new InputError(
      'lock',
      `${quote(name)} is not a lock name; use 1 to 64 letters, digits, '.', '_' or '-', with at least one letter or digit (e.g. deploy-prod)`,
    )
  }
  const waitMs = parse('lock-wait', parseDuration)
  return { name, host: lockHost(get('lock-host'), allTargets), waitMs, githubToken: get('github-token') }
}

/** lock-host as a host of the list (its label, inventory name, host, host:port or user@host[:port]); default: the first. */
function lockHost(text: string, targets: HostTarget[]): HostTarget {
  if (targets.length === 0) throw new InputError('lock-host', 'no host keeps the lock: the host list is empty')
  if (text === '') return targets[0]
  const exact = targets.find((t) => t.label === text || t.inventory?.name === text)
  if (exact) return exact
  const forms = (t: HostTarget) => [t.host, hostLabel(t.host, t.port), `${t.username}@${hostLabel(t.host, t.port)}`, `${t.host}:${t.port}`]
  const found = targets.filter((t) => forms(t).includes(text))
  if (found.length === 1) return found[0]
  if (found.length > 1) {
    throw new InputError(
      'lock-host',
      `${quote(text)} names ${found.length} hosts of the list (${found.map((t) => t.label).join(', ')}); give one as the list names it`,
    )
  }
  const shown = targets.slice(0, 3).map((t) => t.label)
  throw new InputError(
    'lock-host',
    `${quote(text)} is not a host of the list; give one of its hosts (e.g. ${shown.join(', ')}${targets.length > 3 ? ', …' : ''})`,
  )
}
