/**
 * After preflight, each host must show again the key it showed there, whatever the policy
 * (also with strict-host-key-checking off): a changed key between preflight and the command is
 * refused as `host key changed since preflight`.
 */
import { fingerprintOf, hostKeyAlgorithmsFor, type HostKey } from './known-hosts.js'
import type { HostKeyInfo, HostKeyPolicy, HostTarget } from '../model.js'

/** `policy`, with every host in `seen` (by label) pinned to the key it showed in preflight. */
export function pinnedToPreflight(policy: HostKeyPolicy, seen: ReadonlyMap<string, HostKeyInfo>): HostKeyPolicy {
  return {
    reject(target: HostTarget, key: HostKey): string | null {
      const earlier = seen.get(target.label)
      if (!earlier) return policy.reject(target, key)
      if (earlier.type === key.type && earlier.fingerprint === fingerprintOf(key.blob)) return policy.reject(target, key)
      return `but its host key changed since preflight (it showed ${earlier.type} ${earlier.fingerprint} there). Verify the host out of band: the key was replaced, or someone is intercepting the connection`
    },
    preferredAlgorithms(target: HostTarget): string[] {
      // The key type preflight saw first: a host with several keys then shows the same one again.
      const earlier = seen.get(target.label)
      const preferred = earlier ? hostKeyAlgorithmsFor([earlier.type]) : []
      return [...new Set([...preferred, ...policy.preferredAlgorithms(target)])]
    },
    askForOtherKeyTypes(target: HostTarget, key: HostKey): boolean {
      return seen.has(target.label) ? false : policy.askForOtherKeyTypes(target, key)
    },
  }
}
