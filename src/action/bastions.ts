/**
 * How each host is reached: directly, through the jump-host input's bastion, or through the
 * bastion its inventory entry names; ONE session per distinct bastion, each with its events in
 * the log and one annotation when it cannot be had.
 */
import * as core from '@actions/core'
import { backoffDelay, type FanoutResult } from '../engine/fanout/fanout.js'
import { DirectTransport, type Transport } from '../engine/ssh/transport.js'
import { JumpTransport, type JumpEvent } from '../engine/ssh/jump.js'
import type { HostKeyPolicy, HostResult, HostTarget } from '../engine/model.js'
import { countHosts, formatSeconds } from '../engine/format.js'
import { inert } from './log/remote-text.js'
import type { Settings } from './inputs.js'

export class Bastions {
  private readonly direct = new DirectTransport()
  /** The jump-host input's bastion (for hosts that name none), or null. */
  private readonly fallback: JumpTransport | null
  private readonly byKey = new Map<string, JumpTransport>()

  constructor(settings: Settings, hostKeys: HostKeyPolicy, note: (line: string) => void) {
    const make = (bastion: HostTarget) => jumpTransport(bastion, settings, hostKeys, note)
    this.fallback = settings.jumpHost ? make(settings.jumpHost) : null
    for (const [key, bastion] of settings.bastions) this.byKey.set(key, make(bastion))
  }

  transportFor(target: HostTarget): Transport {
    const key = target.inventory?.jump
    return (key ? this.byKey.get(key) : undefined) ?? this.fallback ?? this.direct
  }

  close(): void {
    this.fallback?.close()
    for (const jump of this.byKey.values()) jump.close()
  }

  /** One annotation per bastion that could not be had, counting its own hosts. */
  annotateUnavailable(result: FanoutResult): void {
    for (const jump of [this.fallback, ...this.byKey.values()]) {
      if (!jump?.unavailableReason) continue
      const mine = result.results.filter((r) => this.transportFor(r.target) === jump)
      core.error(inert(jumpUnavailable(jump, mine)), { title: inert(`ssh-fanout: jump host ${jump.label} unavailable`) })
    }
  }
}

/** A bastion session its hosts go through, with its events in the log. It connects when its first host needs it. */
function jumpTransport(bastion: HostTarget, s: Settings, hostKeys: HostKeyPolicy, note: (line: string) => void): JumpTransport {
  const label = bastion.label
  const describe = (e: JumpEvent): string => {
    switch (e.type) {
      case 'connected':
        return `: connected (${e.hostKey.type} ${e.hostKey.fingerprint}${e.attempts > 1 ? `, ${e.attempts} attempts` : ''}); every host goes through this one session`
      case 'retrying':
        return `: attempt ${e.attempt} failed (${e.error}); retrying in ${formatSeconds(e.delayMs)}`
      case 'lost':
        return `: ${e.reason}; hosts not yet started wait for one reconnect`
      case 'failed':
        return e.afterLoss
          ? ` unavailable: ${e.reason} (reconnecting after the session was lost mid-run); no further host is attempted through it`
          : ` unavailable: ${e.reason}; no host is attempted through it`
    }
  }
  return new JumpTransport({
    bastion,
    credentials: s.credentials,
    hostKeys,
    connectTimeoutMs: s.connectTimeoutMs,
    retries: s.retries,
    backoff: (attempt) => backoffDelay(attempt, 1_000),
    onEvent: (e) => note(`ssh-fanout: jump host ${label}${describe(e)}`),
  })
}

/**
 * The annotation's text when a bastion could not be had: at the start (no host was attempted
 * through it), or lost mid-run and not reconnected (some of its hosts ran through it, the rest did not).
 */
function jumpUnavailable(jump: JumpTransport, results: HostResult[]): string {
  if (jump.lostMidRun === null) return `${jump.unavailableReason}; no host was attempted through it`
  const attempted = results.filter((r) => r.attempts > 0).length
  const not = results.filter((r) => r.errorKind === 'jump host').length
  return (
    `lost mid-run (${jump.lostMidRun}) and could not be reconnected: ${jump.unavailableReason}; ` +
    `${countHosts(attempted)} ${attempted === 1 ? 'was' : 'were'} attempted through it, ${countHosts(not)} ${not === 1 ? 'was' : 'were'} not`
  )
}
