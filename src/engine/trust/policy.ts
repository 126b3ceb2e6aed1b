import {
  checkHostKey,
  fingerprintAccepted,
  fingerprintOf,
  hostKeyAlgorithmsFor,
  knownKeyTypes,
  type FingerprintRule,
  type HostKey,
  type KnownHosts,
} from './known-hosts.js'
import type { HostTarget } from '../model.js'
import type { HostKeyPolicy } from '../model.js'

export interface TrustSettings {
  strict: boolean
  knownHosts: KnownHosts | null
  fingerprints: FingerprintRule[]
}

/**
 * Host key trust as OpenSSH's StrictHostKeyChecking=yes would decide it, plus pinned fingerprints.
 * A revoked or changed key is never accepted; an unknown key is accepted only when a fingerprint rule pins it.
 * A key on a @revoked line for this host is refused even with checking off (OpenSSH would then still connect,
 * only without password authentication; a revoked key means a stolen one, so no command is sent to it).
 */
export function hostKeyPolicy(trust: TrustSettings): HostKeyPolicy {
  return {
    reject(target: HostTarget, key: HostKey): string | null {
      const verdict = trust.knownHosts ? checkHostKey(trust.knownHosts, target.host, target.port, key) : 'unknown'
      if (verdict === 'revoked') return `which is marked @revoked in known-hosts${trust.strict ? '' : ' (refused even with strict-host-key-checking: false)'}`
      if (!trust.strict || verdict === 'match') return null
      if (verdict === 'changed') {
        return 'which does NOT match the key of that type in known-hosts: the host key changed, or someone is intercepting the connection. Verify the new key out of band before updating known-hosts'
      }
      if (fingerprintAccepted(trust.fingerprints, target.host, target.port, fingerprintOf(key.blob))) return null
      return 'which is not in known-hosts or fingerprints. Verify it out of band, then add it (ssh-keyscan output to known-hosts, or the fingerprint to fingerprints)'
    },
    preferredAlgorithms(target: HostTarget): string[] {
      return trust.knownHosts ? hostKeyAlgorithmsFor(knownKeyTypes(trust.knownHosts, target.host, target.port)) : []
    },
    askForOtherKeyTypes(target: HostTarget, key: HostKey): boolean {
      // Only where fingerprints are the sole trust: a known-hosts line for the host already steers the negotiation.
      if (!trust.strict || trust.fingerprints.length === 0) return false
      if (!trust.knownHosts) return true
      return (
        knownKeyTypes(trust.knownHosts, target.host, target.port).length === 0 && checkHostKey(trust.knownHosts, target.host, target.port, key) === 'unknown'
      )
    },
  }
}
