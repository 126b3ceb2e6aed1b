/**
 * The safe-rollout inputs (issue 17): preflight / preflight-command, check-command /
 * check-interval / check-timeout, rollback-command, read into what the engine takes.
 *
 * Every value is validated whether or not the command it tunes is set: a typo in
 * `check-interval` must fail today's run, not the first run that adds `check-command`.
 */
import type { CheckSettings, FanoutOptions } from '../engine/fanout/types.js'
import { parseBoolean, parseDuration, quote } from '../engine/parse.js'

/** preflight / preflight-command, check-command / check-interval / check-timeout, rollback-command. */
export interface RolloutSafety {
  /** null without preflight; `command` the preflight-command as given (the engine adds the env prefix), null when none (log in only). */
  preflight: FanoutOptions['preflight'] | null
  /** null without check-command; the command as given. */
  check: CheckSettings | null
  /** null without rollback-command; the command as given (the engine adds the env prefix and its own variables). */
  rollback: FanoutOptions['rollback'] | null
}

/** getSettings' readers: `get` gives the trimmed value or its default; `parse` names the input in any error its parser throws. */
export interface InputAccess {
  get: (name: string) => string
  parse: <T>(name: string, parser: (text: string) => T) => T
}

/**
 * The three parts, each null when off. Commands are read as `command` is (trimmed; only
 * whitespace is unset); the engine puts the env prefix before each, so `env` applies to them all.
 */
export function readSafety({ get, parse }: InputAccess): RolloutSafety {
  const preflightOn = parse('preflight', parseBoolean)
  const preflightCommand = get('preflight-command')
  const checkCommand = get('check-command')
  const rollbackCommand = get('rollback-command')

  const intervalMs = parse('check-interval', (t) => positiveDuration(t, '5s'))
  const timeoutMs = parse('check-timeout', (t) => {
    const ms = positiveDuration(t, '1m')
    // A timeout shorter than the time between attempts is most likely the two values swapped (equal is allowed: one attempt).
    if (ms < intervalMs) {
      const interval = quote(get('check-interval'))
      throw new Error(
        `${quote(t)} is shorter than check-interval (${interval}); give a check-timeout of at least ${interval} ` +
          '(how long a failing check keeps being retried), or a shorter check-interval',
      )
    }
    return ms
  })

  return {
    // preflight-command implies preflight: true.
    preflight: preflightOn || preflightCommand !== '' ? { command: preflightCommand === '' ? null : preflightCommand } : null,
    check: checkCommand === '' ? null : { command: checkCommand, intervalMs, timeoutMs },
    rollback: rollbackCommand === '' ? null : { command: rollbackCommand },
  }
}

/** A duration as command-timeout takes it, but more than 0 (worded as connect-timeout's error). */
function positiveDuration(text: string, example: string): number {
  const ms = parseDuration(text)
  if (ms <= 0) throw new Error(`must be more than 0 (e.g. ${example})`)
  return ms
}
