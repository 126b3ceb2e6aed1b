import type { AuthenticationType } from 'ssh2'
import type { Credentials } from '../model.js'

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
