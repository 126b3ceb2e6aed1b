// Checking a presented host key against the policy, and asking a host for its other key types
// when only a fingerprint (which names no type) pins it. Shared by a target's session and the bastion.
import { fingerprintOf, hostKeyAlgorithmsFor, hostKeyFromBlob, type HostKey } from './known-hosts.js'
import type { HostKeyInfo, HostKeyPolicy, HostTarget } from '../model.js'

/** Checks a presented host key against the policy: the key seen, and why it is refused (null when trusted). */
export function verifyHostKey(policy: HostKeyPolicy, target: HostTarget, blob: Buffer): { key: HostKeyInfo; parsed: HostKey; problem: string | null } {
  const parsed = hostKeyFromBlob(blob)
  const key = { type: parsed.type, fingerprint: fingerprintOf(blob) }
  const reason = policy.reject(target, parsed)
  return { key, parsed, problem: reason === null ? null : `host key: ${target.label} presented ${key.type} ${key.fingerprint}, ${reason}` }
}

/** Host key algorithms ssh2 verifies, in its default order of preference. */
export const SUPPORTED_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
]

/** ssh2's error when the client's host key algorithms and the server's keys have nothing in common. */
export const NO_COMMON_HOST_KEY = /no matching host key format/

/**
 * Host key algorithms to offer a host (a target or a bastion): those of the key types the policy
 * knows for it first, without `excluded` (their keys were refused already); null for ssh2's default list.
 */
export function hostKeyAlgorithms(policy: HostKeyPolicy, target: HostTarget, excluded: readonly string[]): string[] | null {
  const preferred = policy.preferredAlgorithms(target).filter((a) => SUPPORTED_HOST_KEY_ALGORITHMS.includes(a))
  if (preferred.length === 0 && excluded.length === 0) return null
  return [...new Set([...preferred, ...SUPPORTED_HOST_KEY_ALGORITHMS])].filter((a) => !excluded.includes(a))
}

/** How one handshake went, as far as asking for other host key types is concerned. */
export interface HandshakeTry<T> {
  result: T
  /** The key presented, when it was refused for being unknown and another of the host's key types may be trusted. */
  refusedUnknownKey: HostKeyInfo | null
  /** The handshake failed because no host key algorithm was left in common. */
  noCommonHostKey: boolean
}

/**
 * Runs handshakes until the host key is not refused for being unknown: when a pinned fingerprint
 * (which names no key type) may be another of the host's keys, each new handshake leaves out the
 * algorithms of the keys refused so far, so the host presents its next key type. When every try
 * is refused, the first refusal is returned with `refusedKeys` naming every key the host presented
 * (empty otherwise). `stop()` true ends the asking (the run was cancelled or ended).
 */
export async function askingForOtherKeyTypes<T>(
  attempt: (excludedAlgorithms: string[]) => Promise<HandshakeTry<T>>,
  stop: () => boolean = () => false,
): Promise<{ result: T; refusedKeys: HostKeyInfo[] }> {
  const refused: Array<{ key: HostKeyInfo; result: T }> = []
  for (;;) {
    const excluded = hostKeyAlgorithmsFor(refused.map((r) => r.key.type))
    if (refused.length > 0 && SUPPORTED_HOST_KEY_ALGORITHMS.every((a) => excluded.includes(a))) break
    const tried = await attempt(excluded)
    if (refused.length > 0 && (tried.noCommonHostKey || stop())) break
    if (!tried.refusedUnknownKey) return { result: tried.result, refusedKeys: [] }
    refused.push({ key: tried.refusedUnknownKey, result: tried.result })
  }
  return { result: refused[0].result, refusedKeys: refused.map((r) => r.key) }
}

/** A host key refusal that names every key the host presented (`refusedKeys` from askingForOtherKeyTypes). */
export function namingEveryKey(message: string, refusedKeys: HostKeyInfo[]): string {
  const [first, ...others] = refusedKeys
  if (!first || others.length === 0) return message
  const also = others.map((k) => `${k.type} ${k.fingerprint}`).join(', ')
  return message.replace(
    `presented ${first.type} ${first.fingerprint}`,
    `presented ${first.type} ${first.fingerprint} (and ${also} when asked for its other key types)`,
  )
}
