/**
 * Parsers for scalar action inputs (durations, counts, thresholds, sizes, booleans).
 * Each throws a plain `Error` saying what is wrong and what is accepted; the caller
 * prefixes the input name.
 */

const DURATION_FORMS = 'use seconds (45) or a number with units h, m, s, ms (45s, 5m, 1h, 1m30s, 500ms)'
const THRESHOLD_FORMS = 'use a number of hosts (0, 2) or a percentage of hosts from 0% to 100% (10%, 12.5%)'
const SIZE_FORMS = 'use a number of bytes (1048576) or a number with a unit KB, MB or GB (512KB, 10MB, 1GB; KiB, MiB, GiB also accepted; 1 KB = 1024 bytes)'
const BOOLEAN_FORMS = 'use true or false (True, TRUE, False and FALSE are also accepted)'

/** Longest duration accepted: Node.js timers fire at once (after 1 ms) when asked to wait longer than 2^31 - 1 ms (about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1
const MAX_DURATION = 'at most 24 days (596h)'

/** Longest piece of user text quoted in an error; longer text is cut so an error never repeats megabytes of input. */
const QUOTE_LIMIT = 40

/** User text in double quotes for an error message; text over 40 characters is cut to its start, with its length. */
export function quote(text: string): string {
  return text.length <= QUOTE_LIMIT ? `"${text}"` : `"${clip(text)}" (${text.length} characters)`
}

/** The text itself, or its first 40 characters and '…' when longer. */
export function clip(text: string): string {
  if (text.length <= QUOTE_LIMIT) return text
  return (
    Array.from(text.slice(0, QUOTE_LIMIT * 2))
      .slice(0, QUOTE_LIMIT)
      .join('') + '…'
  )
}

const NUMBER = String.raw`\d+(?:\.\d+)?`
/** Units in order, each at most once; `m(?!s)` keeps minutes from eating the `m` of `ms`. */
const BARE_NUMBER_RE = new RegExp(`^${NUMBER}$`)
const DURATION_RE = new RegExp(`^(?:(${NUMBER})h)?(?:(${NUMBER})m(?!s))?(?:(${NUMBER})s)?(?:(\\d+)ms)?$`)

/**
 * Milliseconds. A bare number is seconds; `h`, `m`, `s` accept decimals (`1.5s`), `ms` does not.
 * Zero is accepted; more than MAX_DURATION_MS is not (Node.js could not wait that long).
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim()
  const parts = durationParts(trimmed.toLowerCase())
  if (parts === null) throw new Error(`${quote(trimmed)} is not a duration; ${DURATION_FORMS}`)
  const [h, m, s, ms] = parts
  const total = Math.round(h * 3_600_000 + m * 60_000 + s * 1000 + ms)
  if (!(total <= MAX_DURATION_MS)) throw new Error(`${quote(trimmed)} is too long a duration; give ${MAX_DURATION}`)
  return total
}

/** [hours, minutes, seconds, milliseconds], or null when the text is not a duration. */
function durationParts(text: string): number[] | null {
  if (BARE_NUMBER_RE.test(text)) return [0, 0, Number(text), 0]
  const match = DURATION_RE.exec(text)
  if (match === null || text === '') return null
  return match.slice(1).map((part) => Number(part ?? 0))
}

/** A whole number (digits only) that is at least `min` (and at most `max` when given). */
export function parsePositiveInt(text: string, min: number, max?: number): number {
  const trimmed = text.trim()
  const value = Number(trimmed)
  const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
    const example = max === undefined ? Math.max(min, 10) : max
    throw new Error(`${quote(trimmed)} is not a whole number ${range}; use a whole number ${range}, e.g. ${example}`)
  }
  return value
}

export type Threshold = { kind: 'count'; value: number } | { kind: 'percent'; value: number }

/** `2` (hosts) or `10%` / `12.5%` (of all hosts, 0..100). */
export function parseThreshold(text: string): Threshold {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed))) return { kind: 'count', value: Number(trimmed) }
  const percent = new RegExp(`^(${NUMBER})%$`).exec(trimmed)
  if (percent === null) throw new Error(`${quote(trimmed)} is not a number of hosts or a percentage; ${THRESHOLD_FORMS}`)
  const value = Number(percent[1])
  if (value > 100) throw new Error(`${quote(trimmed)} is more than 100%; ${THRESHOLD_FORMS}`)
  return { kind: 'percent', value }
}

/**
 * How many failures are tolerated. For percentages this is exactly
 * floor(value * total / 100), computed on the decimal digits so that e.g.
 * 1.14% of 5000 hosts is 57, not 56 as floating point would give.
 */
export function toleratedFailures(t: Threshold, total: number): number {
  if (t.kind === 'count') return t.value
  const exact = decimalParts(t.value)
  if (exact === null || !Number.isSafeInteger(total)) return Math.floor((t.value * total) / 100)
  const [digits, scale] = exact
  return Number((digits * BigInt(total)) / (100n * 10n ** scale))
}

/** True when failures are strictly more than tolerated (for percent: failures * 100 > value * total, exactly). */
export function thresholdExceeded(t: Threshold, failures: number, total: number): boolean {
  return failures > toleratedFailures(t, total)
}

/** `2`, or `10% of 40 hosts (4)` with the tolerated count rounded down. */
export function describeThreshold(t: Threshold, total: number): string {
  if (t.kind === 'count') return String(t.value)
  return `${t.value}% of ${total} ${total === 1 ? 'host' : 'hosts'} (${toleratedFailures(t, total)})`
}

/** A non-negative number as digits / 10^scale, from its shortest decimal form; null if not finite or negative. */
function decimalParts(value: number): [bigint, bigint] | null {
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value))
  if (match === null) return null
  const [, int, frac = '', exp = '0'] = match
  const scale = frac.length - Number(exp)
  const digits = BigInt(int + frac)
  return scale >= 0 ? [digits, BigInt(scale)] : [digits * 10n ** BigInt(-scale), 0n]
}

// Binary multiples: 1 KB = 1 KiB = 1024 bytes, 1 MB = 1024 KB, 1 GB = 1024 MB
// (as most people mean them for buffer and output limits).
const SIZE_UNITS = new Map<string, number>([
  ['', 1],
  ['b', 1],
  ...['k', 'kb', 'kib'].map((u): [string, number] => [u, 1024]),
  ...['m', 'mb', 'mib'].map((u): [string, number] => [u, 1024 ** 2]),
  ...['g', 'gb', 'gib'].map((u): [string, number] => [u, 1024 ** 3]),
])

/** Bytes, at least 1. Units are case-insensitive and binary (1 KB = 1024 bytes); decimals allowed with a unit (`1.5MB`), rounded down to whole bytes. */
export function parseSize(text: string): number {
  const trimmed = text.trim()
  const match = new RegExp(`^(${NUMBER})\\s*([a-z]*)$`).exec(trimmed.toLowerCase())
  const unit = match === null ? undefined : SIZE_UNITS.get(match[2])
  if (match === null || unit === undefined || (unit === 1 && match[1].includes('.'))) {
    throw new Error(`${quote(trimmed)} is not a size; ${SIZE_FORMS}`)
  }
  const bytes = Math.floor(Number(match[1]) * unit)
  if (bytes < 1) throw new Error(`${quote(trimmed)} is less than 1 byte; ${SIZE_FORMS}`)
  if (!Number.isSafeInteger(bytes)) throw new Error(`${quote(trimmed)} is too large; ${SIZE_FORMS}`)
  return bytes
}

/** YAML 1.2 core schema booleans, as `@actions/core` getBooleanInput accepts them. */
export function parseBoolean(text: string): boolean {
  const trimmed = text.trim()
  if (['true', 'True', 'TRUE'].includes(trimmed)) return true
  if (['false', 'False', 'FALSE'].includes(trimmed)) return false
  throw new Error(`${quote(trimmed)} is not a boolean; ${BOOLEAN_FORMS}`)
}
