/**
 * Parsing of the `hosts` input: a list of `[user@]host[:port]` entries with
 * numeric ranges (`web[01-12].example.com`, `10.0.0.[1-3,7]`) and IPv6 literals.
 * Errors are plain `Error`s; the caller prefixes the input name.
 */
import { isIPv6 } from 'node:net'
import { clip, quote } from '../parse.js'
import type { HostTarget } from '../model.js'

export interface HostEntry {
  host: string
  port?: number
  username?: string
}

/** Most hosts one run may target, after expanding ranges: keeps `results` (an entry per host) under GitHub's 1 MB output limit. */
export const MAX_HOSTS = 5000

const ENTRY_FORM = 'write [user@]host[:port], e.g. deploy@web1.example.com:2222'
const RANGE_FORM = 'ranges look like [1-3], [01-12] or [1-3,7]'
const PORT_RANGE = 'ports are whole numbers from 1 to 65535'
const IPV6_FORM = 'write it like 2001:db8::1, or [2001:db8::1]:2222 with a port'

interface Token {
  text: string
  line: number
}

interface RangeItem {
  start: number
  end: number
  /** Zero-padded width, or 1 for no padding. */
  width: number
}

type Segment = string | RangeItem[]

export function parseHosts(text: string): HostEntry[] {
  const entries: HostEntry[] = []
  const seen = new Map<string, Token>()
  for (const token of tokenize(text)) {
    for (const entry of parseToken(token)) {
      const key = entryKey(entry.username, entry.host, entry.port)
      const first = seen.get(key)
      if (first !== undefined) throw new Error(`${where(token)}: ${duplicateMessage(entry, first, token)}`)
      seen.set(key, token)
      entries.push(entry)
    }
    if (entries.length > MAX_HOSTS) {
      throw new Error(`more than ${MAX_HOSTS} hosts in total after expanding ranges; at most ${MAX_HOSTS} are allowed, so split them across several steps`)
    }
  }
  if (entries.length === 0) {
    throw new Error('no hosts given; list hosts one per line or separated by commas or spaces, e.g. web1.example.com, deploy@10.0.0.5:2222')
  }
  return entries
}

/** Expands numeric ranges in brackets; brackets holding a ':' (IPv6 literals) are kept as they are. */
export function expandRanges(pattern: string): string[] {
  const segments = splitPattern(pattern)
  const total = segments.reduce((n, s) => n * (typeof s === 'string' ? 1 : rangeCount(s)), 1)
  if (total > MAX_HOSTS) {
    const count = Number.isSafeInteger(total) ? `${total} hosts` : 'too many hosts'
    throw new Error(`expands to ${count}; at most ${MAX_HOSTS} hosts are allowed`)
  }
  return segments.reduce<string[]>(
    (prefixes, segment) => {
      const options = typeof segment === 'string' ? [segment] : rangeValues(segment)
      return prefixes.flatMap((prefix) => options.map((option) => prefix + option))
    },
    [''],
  )
}

/** `host` when port is 22, else `host:port`; IPv6 in brackets when a port is shown. */
export function hostLabel(host: string, port: number): string {
  if (port === 22) return host
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** Raised by resolveTargets: `missing-username` (fix the username) or `duplicate` (fix the host list). */
export class TargetError extends Error {
  constructor(
    message: string,
    readonly reason: 'missing-username' | 'duplicate',
  ) {
    super(message)
  }
}

export function resolveTargets(entries: HostEntry[], defaults: { username: string; port: number }): HostTarget[] {
  const targets = entries.map((entry): HostTarget => {
    const port = entry.port ?? defaults.port
    const username = entry.username ?? defaults.username
    return { host: entry.host, port, username, label: hostLabel(entry.host, port) }
  })
  const missing = targets.filter((t) => t.username === '')
  if (missing.length > 0) throw new TargetError(missingUserMessage(missing.map((t) => t.label)), 'missing-username')
  const seen = new Set<string>()
  for (const t of targets) {
    const key = entryKey(t.username, t.host, t.port)
    if (seen.has(key)) {
      throw new TargetError(`${clip(`${t.username}@${t.label}`)} appears twice after applying the default username and port; list each host once`, 'duplicate')
    }
    seen.add(key)
  }
  // Several users on one host and port (alice@web1, bob@web1): each of their labels names its user, so no two hosts look alike.
  const sharing = new Map<string, number>()
  const place = (t: HostTarget) => entryKey(undefined, t.host, t.port)
  for (const t of targets) sharing.set(place(t), (sharing.get(place(t)) ?? 0) + 1)
  for (const t of targets) if (sharing.get(place(t))! > 1) t.label = `${t.username}@${t.label}`
  return targets
}

// ---- tokenizing -------------------------------------------------------------

/** Splits on newlines, commas and whitespace, except inside brackets; drops `#` comments. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  text.split('\n').forEach((rawLine, index) => {
    let current = ''
    let depth = 0
    const push = (): void => {
      if (current !== '') tokens.push({ text: current, line: index + 1 })
      current = ''
    }
    for (const ch of rawLine.split('#')[0]) {
      if (ch === '[') depth++
      if (ch === ']') depth = Math.max(0, depth - 1)
      if (depth === 0 && (ch === ',' || /\s/.test(ch))) push()
      else current += ch
    }
    push()
  })
  return tokens
}

function where(token: Token): string {
  return `entry ${quote(token.text)} on line ${token.line}`
}

function parseToken(token: Token): HostEntry[] {
  try {
    return parseEntry(token.text)
  } catch (err) {
    throw new Error(`${where(token)}: ${(err as Error).message}`, { cause: err })
  }
}

// ---- one entry --------------------------------------------------------------

function parseEntry(text: string): HostEntry[] {
  const { username, rest } = splitUser(text)
  const { hosts, port } = parseHostPart(rest)
  return hosts.map((host) => ({
    host,
    ...(port !== undefined && { port }),
    ...(username !== undefined && { username }),
  }))
}

/** Splits at the last '@', as `ssh` does, so `user@domain@host` logs in as `user@domain`. */
function splitUser(text: string): { username?: string; rest: string } {
  const at = text.lastIndexOf('@')
  if (at === -1) return { rest: text }
  const username = text.slice(0, at)
  if (username === '') throw new Error(`the user name before '@' is empty; ${ENTRY_FORM}`)
  checkUsername(username)
  return { username, rest: text.slice(at + 1) }
}

/**
 * A login name `ssh` accepts on its command line (OpenSSH's valid_ruser): not starting with '-',
 * no control characters, none of ' ` " ; & < > | ( ) { }, no '-' after a space, no trailing '\'.
 * So `user@domain`, `DOMAIN\user` and `first.last` are fine. Throws a plain Error naming the problem.
 */
export function checkUsername(name: string): string {
  const problem = usernameProblem(name)
  if (problem !== null) {
    throw new Error(
      `user name ${quote(name)} ${problem}; as with ssh, a user name may not start with '-', contain control characters or any of ' \` " ; & < > | ( ) { }, or end with '\\'`,
    )
  }
  return name
}

function usernameProblem(name: string): string | null {
  if (name.startsWith('-')) return "starts with '-'"
  const bad = [...name].find((ch) => /[\p{Cc}'`";&<>|(){}]/u.test(ch))
  if (bad !== undefined) return `contains ${describeChar(bad)}`
  if (/\s-/.test(name)) return "has a '-' after a space"
  if (name.endsWith('\\')) return "ends with '\\'"
  return null
}

function parseHostPart(text: string): { hosts: string[]; port?: number } {
  if (isBracketedIPv6(text)) return parseBracketedIPv6(text)
  if (text.split(':').length > 2) return { hosts: [checkIPv6(text)] }
  const [pattern, portText] = text.split(':')
  const hosts = expandRanges(pattern).map((host) => checkIPv4(checkHostName(host), pattern))
  return portText === undefined ? { hosts } : { hosts, port: parsePort(portText) }
}

/**
 * Refuses zero-padded numbers in an IPv4 address (all digits and dots): the system resolver reads
 * them as octal (10.0.0.010 is 10.0.0.8), and 10.0.0.01 would not count as a duplicate of 10.0.0.1.
 */
function checkIPv4(host: string, pattern: string): string {
  if (!/^[\d.]+$/.test(host)) return host
  const padded = host.split('.').find((part) => /^0\d/.test(part))
  if (padded === undefined) return host
  const unpadded = host
    .split('.')
    .map((part) => (part === '' ? part : String(Number(part))))
    .join('.')
  const inRange = pattern.includes('[') ? ' (in a range, write [1-10], not [01-10])' : ''
  throw new Error(
    `IPv4 address ${quote(host)} has the zero-padded number "${padded}", which the system resolver reads as octal (010 is 8); ` +
      `write IPv4 numbers without leading zeros: ${unpadded}${inRange}`,
  )
}

/** `[2001:db8::1]...`: the first bracket holds a ':', so it is an address, not a range. */
function isBracketedIPv6(text: string): boolean {
  if (!text.startsWith('[')) return false
  const close = text.indexOf(']')
  return (close === -1 ? text.slice(1) : text.slice(1, close)).includes(':')
}

function parseBracketedIPv6(text: string): { hosts: string[]; port?: number } {
  const close = text.indexOf(']')
  if (close === -1) throw new Error(`'[' has no matching ']'; ${IPV6_FORM}`)
  const host = checkIPv6(text.slice(1, close))
  const after = text.slice(close + 1)
  if (after === '') return { hosts: [host] }
  if (!after.startsWith(':')) throw new Error(`unexpected ${quote(after)} after ']'; ${IPV6_FORM}`)
  return { hosts: [host], port: parsePort(after.slice(1)) }
}

function checkIPv6(address: string): string {
  if (isIPv6(address)) return address
  const note = address.includes('[') ? ' (ranges are not supported in IPv6 addresses)' : ''
  throw new Error(`${quote(address)} is not a valid IPv6 address${note}; ${IPV6_FORM}`)
}

function parsePort(text: string): number {
  if (text === '') throw new Error(`the port after ':' is missing; ${PORT_RANGE}`)
  if (!/^\d+$/.test(text)) throw new Error(`port ${quote(text)} is not a number; ${PORT_RANGE}`)
  const port = Number(text)
  if (port < 1 || port > 65535) throw new Error(`port ${clip(text)} is out of range; ${PORT_RANGE}`)
  return port
}

function checkHostName(name: string): string {
  if (name === '') throw new Error(`the host name is missing; ${ENTRY_FORM}`)
  const bad = [...name].find((ch) => !/[A-Za-z0-9._-]/.test(ch))
  if (bad !== undefined) {
    throw new Error(`host name ${quote(name)} contains ${describeChar(bad)}; host names may only use letters, digits, '.', '-' and '_'`)
  }
  if (/^[-.]/.test(name)) {
    throw new Error(`host name ${quote(name)} starts with '${name[0]}'; it must start with a letter, digit or '_'`)
  }
  return name
}

function describeChar(ch: string): string {
  if (ch === ' ') return 'a space'
  if (ch === '\t') return 'a tab'
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(ch) ? `'${ch}'` : `the character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}

// ---- ranges -----------------------------------------------------------------

function splitPattern(pattern: string): Segment[] {
  const segments: Segment[] = []
  let rest = pattern
  while (rest !== '') {
    const open = rest.indexOf('[')
    const close = rest.indexOf(']')
    if (close !== -1 && (open === -1 || close < open)) throw new Error(`']' has no matching '['; ${RANGE_FORM}`)
    if (open === -1) {
      segments.push(rest)
      break
    }
    if (close === -1) throw new Error(`'[' has no matching ']'; ${RANGE_FORM}`)
    const body = rest.slice(open + 1, close)
    segments.push(rest.slice(0, open), body.includes(':') ? `[${body}]` : parseRange(body))
    rest = rest.slice(close + 1)
  }
  return segments
}

function parseRange(body: string): RangeItem[] {
  if (body.trim() === '') throw new Error(`empty brackets []; ${RANGE_FORM}`)
  const items = body.split(',').map((item) => item.trim())
  return items.map((item) => parseRangeItem(item, body, items.length === 1))
}

function parseRangeItem(item: string, body: string, alone: boolean): RangeItem {
  const match = /^(\d+)(?:-(\d+))?$/.exec(item)
  if (match === null) {
    throw new Error(`[${clip(body)}] is not a range: ${quote(item)} is not a number or start-end pair; ${RANGE_FORM}`)
  }
  const [, startText, endText = startText] = match
  const start = Number(startText)
  const end = Number(endText)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) throw new Error(`[${clip(body)}] has a number that is too large`)
  if (start > end) {
    const fix = clip(`${endText}-${startText}`)
    throw new Error(alone ? `range [${clip(item)}] goes backwards; write [${fix}]` : `range ${clip(item)} in [${clip(body)}] goes backwards; write ${fix}`)
  }
  const width = startText.length > 1 && startText.startsWith('0') ? startText.length : 1
  return { start, end, width }
}

function rangeCount(items: RangeItem[]): number {
  return items.reduce((n, item) => n + item.end - item.start + 1, 0)
}

function rangeValues(items: RangeItem[]): string[] {
  const values: string[] = []
  for (const { start, end, width } of items) {
    for (let n = start; n <= end; n++) values.push(String(n).padStart(width, '0'))
  }
  return values
}

// ---- duplicates and messages ------------------------------------------------

function entryKey(username: string | undefined, host: string, port: number | undefined): string {
  return JSON.stringify([username ?? null, normalizeHost(host), port ?? null])
}

/** Host names compare case-insensitively; IPv6 addresses compare in canonical form. */
function normalizeHost(host: string): string {
  if (!host.includes(':')) return host.toLowerCase()
  try {
    return new URL(`http://[${host}]/`).hostname
  } catch {
    return host.toLowerCase() // e.g. a zone id (fe80::1%eth0), which URL does not accept
  }
}

function duplicateMessage(entry: HostEntry, first: Token, current: Token): string {
  const also = first === current ? 'listed twice by this entry' : `already listed by ${where(first)}`
  return `${clip(showEntry(entry))} is ${also}; list each host once`
}

/** The entry as written after expansion: `[user@]host[:port]`, IPv6 bracketed when a port follows. */
function showEntry({ username, host, port }: HostEntry): string {
  const user = username === undefined ? '' : `${username}@`
  if (port === undefined) return user + host
  return `${user}${host.includes(':') ? `[${host}]` : host}:${port}`
}

function missingUserMessage(labels: string[]): string {
  const shown = labels.slice(0, 5).map(clip).join(', ')
  const more = labels.length > 5 ? ` and ${labels.length - 5} more` : ''
  const count = labels.length === 1 ? '' : ` ${labels.length} hosts:`
  return `no username for${count} ${shown}${more}; give user@host or set the username`
}
