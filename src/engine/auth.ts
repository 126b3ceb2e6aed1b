import type { AuthenticationType } from 'ssh2'
import { fingerprintOf, hostKeyAlgorithmsFor, hostKeyFromBlob, type HostKey } from './known-hosts.js'
import type { HostKeyInfo, HostTarget } from './result.js'
import type { Credentials, HostKeyPolicy } from './session.js'

/**
 * One SSH login's authentication: tries the key, the agent, then the password (also through
 * keyboard-interactive), skipping what the server does not offer; remembers what it tried and
 * what the server offered, for the error message.
 *
 * With `short` (the default), the key goes first as a signed request, without the query that
 * asks whether the server would accept it (RFC 4252 §7 allows both; OpenSSH accepts the signed
 * one at once): one round trip less. A server that refuses it may want the query first: unless
 * it is OpenSSH (whose refusal of a signed request is final), the key is tried once more the
 * ordinary way, query then signature, after every other method (MaxAuthTries counts each request).
 */
export class Authenticator {
  readonly tried: string[] = []
  private serverMethods: string[] | null = null
  /** The key went out as a signed request without a query, and no answer came back yet. */
  private signedAtOnce: 'none' | 'pending' | 'refused' = 'none'
  private keyRetried = false

  constructor(
    private readonly credentials: Credentials,
    private readonly username: string,
    private readonly options: { short?: boolean; serverSoftware?: () => string | undefined } = {},
  ) {}

  /**
   * The server identified itself as OpenSSH (its identification comes before authentication).
   * OpenSSH refuses a signed request for good, and keeps a channel opened during authentication
   * for after a login (answering it then; or not at all, when the request did not log in).
   */
  get serverIsOpenSsh(): boolean {
    return /^OpenSSH/i.test(this.options.serverSoftware?.() ?? '')
  }

  /** True while the last request sent is the key's signed request that went without a query (it has not been refused). */
  get signedKeyPending(): boolean {
    return this.signedAtOnce === 'pending'
  }

  /** ssh2's `authHandler`: the next method to try, or false when none is left. */
  next(methodsLeft: AuthenticationType[] | null): unknown {
    if (methodsLeft) this.serverMethods = methodsLeft
    if (this.signedAtOnce === 'pending') this.signedAtOnce = 'refused'
    const { credentials, username } = this
    const offered = (m: string) => methodsLeft === null || methodsLeft.includes(m as AuthenticationType)
    const short = this.options.short ?? true
    const candidates: Array<[string, string, unknown, () => unknown]> = [
      [
        'key',
        'publickey',
        credentials.privateKey,
        () => {
          if (!short) return { type: 'publickey', username, key: credentials.privateKey }
          this.signedAtOnce = 'pending'
          return { type: 'publickey', username, key: credentials.privateKey, skipQuery: true }
        },
      ],
      ['agent', 'publickey', credentials.agent, () => ({ type: 'agent', username, agent: credentials.agent })],
      ['password', 'password', credentials.password, () => ({ type: 'password', username, password: credentials.password })],
      [
        'keyboard-interactive',
        'keyboard-interactive',
        credentials.password,
        () => ({
          type: 'keyboard-interactive',
          username,
          prompt: (_n: string, _i: string, _l: string, prompts: unknown[], finish: (answers: string[]) => void) =>
            finish(prompts.map(() => credentials.password ?? '')),
        }),
      ],
    ]
    for (const [name, method, have, make] of candidates) {
      if (this.tried.includes(name) || !offered(method) || have === undefined) continue
      this.tried.push(name)
      return make()
    }
    // Last resort: the key once more the ordinary way (query first), for servers that refuse a signed request sent without one.
    if (this.signedAtOnce === 'refused' && !this.keyRetried && offered('publickey') && !this.serverIsOpenSsh) {
      this.keyRetried = true
      return { type: 'publickey', username, key: credentials.privateKey }
    }
    return false
  }

  /** `authentication failed for user "u" (tried: key, password; the server offers: publickey)` */
  failureMessage(): string {
    const tried = this.tried.length > 0 ? this.tried.join(', ') : 'nothing that the server offers'
    const offered = this.serverMethods ? this.serverMethods.join(', ') : 'unknown'
    return `authentication failed for user "${this.username}" (tried: ${tried}; the server offers: ${offered})`
  }
}

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
