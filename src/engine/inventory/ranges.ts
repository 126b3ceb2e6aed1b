/**
 * Ansible's host ranges, as ansible-core's `expand_hostname_range` expands them: `www[01:50].example.com`
 * (leading zeros pad to the width of the start), `db-[a:f]` (letters, a..z then A..Z), `[01:50:2]` (a step),
 * several ranges in one name (the first varies slowest). Throws a plain Error; the parser adds the position.
 */
import { quote } from '../parse.js'

const FORMS = 'write a range as [start:end] or [start:end:step], e.g. www[01:50].example.com, db-[a:f], web[1:9:2]'
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

/** Python's int() of a string: optional spaces and sign, digits with single underscores between them. */
const PY_INT = /^\s*[-+]?\d+(?:_\d+)*\s*$/

/** The names `pattern` stands for; at most `limit` of them. */
export function expandHostnameRange(pattern: string, limit: number): string[] {
  const out: string[] = []
  expandInto(pattern, pattern, limit, out)
  return out
}

function expandInto(line: string, pattern: string, limit: number, out: string[]): void {
  // As ansible-core: the first '[' and the first ']' after replacing it split the name in three.
  const open = line.indexOf('[')
  const close = line.indexOf(']')
  const parts = line.replace('[', '|').replace(']', '|').split('|')
  if (open === -1 || close === -1 || parts.length !== 3) {
    throw new Error(`${quote(pattern)} has a '[' without its ']' (or a '|'); ${FORMS}`)
  }
  const [head, body, tail] = parts
  const tooMany = () => new Error(`${quote(pattern)} expands to more than ${limit} hosts`)
  for (const value of rangeValues(body, pattern, limit - out.length, tooMany)) {
    const name = head + value + tail
    if (name.includes('[')) expandInto(name, pattern, limit, out)
    else out.push(name)
    if (out.length > limit) throw tooMany()
  }
}

function rangeValues(body: string, pattern: string, room: number, tooMany: () => Error): string[] {
  const bounds = body.split(':')
  const bad = (why: string) => new Error(`${quote(pattern)}: range [${body}] ${why}; ${FORMS}`)
  if (bounds.length !== 2 && bounds.length !== 3) throw bad('is not start:end or start:end:step')
  const start = bounds[0] === '' ? '0' : bounds[0]
  const end = bounds[1]
  if (end === '') throw bad('has no end')
  const step = bounds.length === 3 ? pyInt(bounds[2]) : 1
  // ansible-core slices or counts with any step Python accepts (0 fails, a negative one runs backwards or gives nothing).
  if (step === null || step < 1) throw bad('has a step that is not a whole number of at least 1')
  const width = start.length > 1 && start.startsWith('0') ? start.length : 0
  if (width > 0 && end.length !== width) throw bad(`starts with a leading zero, so its end must have as many digits (${width})`)

  const first = LETTERS.indexOf(start)
  const last = LETTERS.indexOf(end)
  if (first !== -1 && last !== -1) {
    if (first > last) throw bad('goes backwards; the start must come first (a..z, then A..Z)')
    return count(first, last, step, room, tooMany).map((i) => pad(LETTERS[i], width))
  }
  const from = pyInt(start)
  const to = pyInt(end)
  if (from === null || to === null) throw bad('is neither numbers nor single letters')
  // ansible-core expands a backwards numeric range to no host at all; saying so is kinder.
  if (from > to) throw bad('goes backwards; the start must not be greater than the end')
  return count(from, to, step, room, tooMany).map((n) => pad(String(n), width))
}

/** from, from + step, ... up to to; refused before it is built when there would be more than `room`. */
function count(from: number, to: number, step: number, room: number, tooMany: () => Error): number[] {
  const n = Math.floor((to - from) / step) + 1
  if (!Number.isSafeInteger(n) || n > room) throw tooMany()
  return Array.from({ length: n }, (_, i) => from + i * step)
}

function pyInt(text: string): number | null {
  if (!PY_INT.test(text)) return null
  const n = Number(text.trim().replace(/_/g, ''))
  return Number.isSafeInteger(n) ? n : null
}

/** Python's str.zfill: pads with zeros after any sign. */
function pad(text: string, width: number): string {
  if (text.length >= width) return text
  const sign = text.startsWith('-') || text.startsWith('+') ? text[0] : ''
  return sign + text.slice(sign.length).padStart(width - sign.length, '0')
}
