/**
 * Host key verification against the `known-hosts` and `fingerprints` inputs.
 *
 * Matching follows OpenSSH (hostfile.c / match.c): comma-separated pattern
 * lists with `*` and `?` wildcards and `!` negation, hashed `|1|salt|hash`
 * names, `[host]:port` names for ports other than 22, case-insensitive host
 * names. No @actions/* imports here.
 */
import { createHash, createHmac } from 'node:crypto'
import { clip, quote } from '../parse.js'

/** A public host key: its type name and the raw wire-format blob. */
export interface HostKey {
  type: string
  blob: Buffer
}

export type KnownHostMarker = 'revoked' | 'cert-authority' | null

export interface KnownHostEntry {
  /** 1-based line number in the input text. */
  line: number
  marker: KnownHostMarker
  /** The host field exactly as written (pattern list or one hashed name). */
  hosts: string
  key: HostKey
}

export interface KnownHosts {
  readonly entries: readonly KnownHostEntry[]
  warnings: string[]
}

export type HostKeyVerdict = 'match' | 'revoked' | 'changed' | 'unknown'

export interface FingerprintRule {
  /** Host pattern list, or null when the fingerprint is accepted for any host. */
  pattern: string | null
  /** `SHA256:` + unpadded base64, as `ssh-keygen -l` prints it. */
  fingerprint: string
}

// ---------------------------------------------------------------------------
// Keys and fingerprints

/** Reads the key type (uint32 length + ASCII name) from a public key blob. */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  if (blob.length < 4) throw new Error('public key blob is too short')
  const length = blob.readUInt32BE(0)
  if (length === 0 || length > 128 || blob.length < 4 + length) {
    throw new Error('public key blob has an invalid key type')
  }
  const type = blob.subarray(4, 4 + length).toString('latin1')
  if (!/^[\x21-\x7e]+$/.test(type)) throw new Error('public key blob has an invalid key type')
  return { type, blob }
}

/** `SHA256:` + base64(sha256(blob)) without padding, exactly as `ssh-keygen -l` prints it. */
export function fingerprintOf(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
}

/** Decodes canonical base64 (padding optional), or returns null if `text` is not valid base64. */
function decodeBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null
  const bytes = Buffer.from(text, 'base64')
  const unpadded = (s: string): string => s.replace(/=+$/, '')
  return unpadded(bytes.toString('base64')) === unpadded(text) ? bytes : null
}

// ---------------------------------------------------------------------------
// Pattern matching (OpenSSH match_pattern / match_pattern_list)

/** `*` matches any run of characters, `?` exactly one; everything else is literal. */
function matchPattern(name: string, pattern: string): boolean {
  let n = 0
  let p = 0
  let starP = -1
  let starN = 0
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === name[n])) {
      n++
      p++
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++
      starN = n
    } else if (starP >= 0) {
      p = starP + 1
      n = ++starN
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

type ListVerdict = 'negated' | 'positive' | 'none'

/** Like OpenSSH's match_pattern_list: any matching `!` pattern wins over positives. */
function patternListVerdict(patterns: string, name: string): ListVerdict {
  const lowered = name.toLowerCase()
  let positive = false
  for (const raw of patterns.toLowerCase().split(',')) {
    const negated = raw.startsWith('!')
    if (!matchPattern(lowered, negated ? raw.slice(1) : raw)) continue
    if (negated) return 'negated'
    positive = true
  }
  return positive ? 'positive' : 'none'
}

/** OpenSSH match_hostname semantics on a comma list: true only if a positive pattern matches and no negated one does. */
export function matchPatternList(patterns: string, name: string): boolean {
  return patternListVerdict(patterns, name) === 'positive'
}

// ---------------------------------------------------------------------------
// known_hosts

/** The name `ssh` looks up in known_hosts: the bare host for port 22, else `[host]:port`. */
export function lookupName(host: string, port: number): string {
  const lowered = host.toLowerCase()
  return port === 22 ? lowered : `[${lowered}]:${port}`
}

const HASH_MAGIC = '|1|'

/** Salt of a `|1|salt|hash` field, or null if the field is not a well-formed hashed name. */
function hashedSalt(hosts: string): Buffer | null {
  if (!hosts.startsWith(HASH_MAGIC)) return null
  const parts = hosts.slice(HASH_MAGIC.length).split('|')
  if (parts.length !== 2) return null
  const salt = decodeBase64(parts[0])
  const hash = decodeBase64(parts[1])
  return salt?.length === 20 && hash?.length === 20 ? salt : null
}

/** Does the host field of a line (pattern list or hashed name) match `name`? */
function hostsMatch(hosts: string, name: string): boolean {
  if (!hosts.startsWith('|')) return matchPatternList(hosts, name)
  const salt = hashedSalt(hosts)
  if (salt === null) return false
  const hash = createHmac('sha1', salt).update(name).digest('base64')
  return hosts === `${HASH_MAGIC}${salt.toString('base64')}|${hash}`
}

const MARKERS: Record<string, KnownHostMarker> = { '@revoked': 'revoked', '@cert-authority': 'cert-authority' }

/** Parses one non-comment line; returns the entry or a reason it is malformed. */
function parseLine(text: string, line: number): KnownHostEntry | string {
  const fields = text.split(/[ \t]+/)
  let marker: KnownHostMarker = null
  if (fields[0].startsWith('@')) {
    if (!(fields[0] in MARKERS)) return `unknown marker ${clip(fields[0])}`
    marker = MARKERS[fields[0]]
    fields.shift()
  }
  if (fields.length < 3) return 'expected host names, key type and base64 key'
  const [hosts, type, base64] = fields
  if (hosts.startsWith('|') && hashedSalt(hosts) === null) return 'malformed hashed host name'
  const blob = decodeBase64(base64)
  if (blob === null) return 'key is not valid base64'
  let key: HostKey
  try {
    key = hostKeyFromBlob(blob)
  } catch {
    return 'key data is not a public key'
  }
  if (key.type !== type) return `key type ${clip(type)} does not match the key data (${key.type})`
  return { line, marker, hosts, key }
}

/** Parses known_hosts text. Never throws: bad lines are skipped with a warning. */
export function parseKnownHosts(text: string): KnownHosts {
  const entries: KnownHostEntry[] = []
  const warnings: string[] = []
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.replace(/\r$/, '').trim()
    if (trimmed === '' || trimmed.startsWith('#')) return
    const parsed = parseLine(trimmed, index + 1)
    if (typeof parsed === 'string') warnings.push(`line ${index + 1}: ${parsed}; line ignored`)
    else entries.push(parsed)
  })
  const caLines = entries.filter((e) => e.marker === 'cert-authority').map((e) => e.line)
  if (caLines.length > 0) {
    warnings.push(
      `@cert-authority lines are not supported and are ignored (line${caLines.length > 1 ? 's' : ''} ${caLines.join(', ')}); ` +
        'host certificates are never trusted',
    )
  }
  return { entries, warnings }
}

/**
 * Each known_hosts text is matched once per host name: a line whose host field lists plain names
 * only (no wildcard, no `!`, not hashed) is found through a map by name; the others are scanned.
 * (Every host's check asks several times, and a fleet's known_hosts often has a line per host.)
 */
interface Lookup {
  byName: Map<string, KnownHostEntry[]>
  scanned: KnownHostEntry[]
  found: Map<string, KnownHostEntry[]>
}

const lookups = new WeakMap<KnownHosts, Lookup>()

function lookupFor(kh: KnownHosts): Lookup {
  let lookup = lookups.get(kh)
  if (lookup) return lookup
  lookup = { byName: new Map(), scanned: [], found: new Map() }
  for (const entry of kh.entries) {
    if (/[*?!|]/.test(entry.hosts)) {
      lookup.scanned.push(entry)
      continue
    }
    for (const name of new Set(entry.hosts.toLowerCase().split(','))) {
      const list = lookup.byName.get(name)
      if (list) list.push(entry)
      else lookup.byName.set(name, [entry])
    }
  }
  lookups.set(kh, lookup)
  return lookup
}

/** Entries (any marker) whose host field matches this host and port, in file order. */
export function entriesFor(kh: KnownHosts, host: string, port: number): KnownHostEntry[] {
  const name = lookupName(host, port)
  const lookup = lookupFor(kh)
  let found = lookup.found.get(name)
  if (!found) {
    found = [...(lookup.byName.get(name) ?? []), ...lookup.scanned.filter((e) => hostsMatch(e.hosts, name))].sort((a, b) => a.line - b.line)
    lookup.found.set(name, found)
  }
  return found
}

function sameKey(a: HostKey, b: HostKey): boolean {
  return a.type === b.type && a.blob.equals(b.blob)
}

/** Is the key on a @revoked line whose host field matches this host? As OpenSSH, revocation is scoped to the line's patterns (write `*` for every host). */
function isRevoked(kh: KnownHosts, host: string, port: number, key: HostKey): boolean {
  return entriesFor(kh, host, port).some((e) => e.marker === 'revoked' && sameKey(e.key, key))
}

/** Plain (unmarked) entries that apply to this host. */
function plainEntriesFor(kh: KnownHosts, host: string, port: number): KnownHostEntry[] {
  return entriesFor(kh, host, port).filter((e) => e.marker === null)
}

export function checkHostKey(kh: KnownHosts, host: string, port: number, key: HostKey): HostKeyVerdict {
  if (isRevoked(kh, host, port, key)) return 'revoked'
  const applicable = plainEntriesFor(kh, host, port)
  if (applicable.some((e) => sameKey(e.key, key))) return 'match'
  if (applicable.some((e) => e.key.type === key.type)) return 'changed'
  return 'unknown'
}

/** Distinct key types of plain, non-revoked lines for this host, in file order. */
export function knownKeyTypes(kh: KnownHosts, host: string, port: number): string[] {
  const types = plainEntriesFor(kh, host, port)
    .filter((e) => !isRevoked(kh, host, port, e.key))
    .map((e) => e.key.type)
  return [...new Set(types)]
}

const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
}

/** ssh2 host key algorithm names for these key types, in order; types ssh2 cannot verify are dropped. */
export function hostKeyAlgorithmsFor(types: string[]): string[] {
  return [...new Set(types.flatMap((t) => ALGORITHMS_BY_KEY_TYPE[t] ?? []))]
}

// ---------------------------------------------------------------------------
// fingerprints

const FINGERPRINT_FORMS = 'expected "SHA256:<base64>" or "HOST-PATTERN SHA256:<base64>" (as printed by ssh-keygen -l)'

/** Canonical `SHA256:` fingerprint (unpadded), or null if `text` is not one. */
function normalizeFingerprint(text: string): string | null {
  if (!text.startsWith('SHA256:')) return null
  const digest = decodeBase64(text.slice('SHA256:'.length))
  return digest?.length === 32 ? 'SHA256:' + digest.toString('base64').replace(/=+$/, '') : null
}

/** Parses the `fingerprints` input. Throws on a malformed line, naming its line number. */
export function parseFingerprints(text: string): FingerprintRule[] {
  const rules: FingerprintRule[] = []
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim()
    if (trimmed === '' || trimmed.startsWith('#')) return
    const fields = trimmed.split(/\s+/)
    if (looksLikeKeySize(fields)) throw new Error(`line ${index + 1}: ${keySizeHint(fields[0])}`)
    const fingerprint = fields.length <= 2 ? normalizeFingerprint(fields[fields.length - 1]) : null
    if (fingerprint === null) throw new Error(`line ${index + 1}: malformed fingerprint; ${FINGERPRINT_FORMS}`)
    rules.push({ pattern: fields.length === 2 ? fields[0] : null, fingerprint })
  })
  return rules
}

/** `256 SHA256:… [comment (TYPE)]`: a whole `ssh-keygen -l` line, whose first field is the key size in bits, not a host pattern. */
function looksLikeKeySize(fields: string[]): boolean {
  return fields.length >= 2 && /^\d+$/.test(fields[0]) && fields[1].startsWith('SHA256:')
}

function keySizeHint(bits: string): string {
  return (
    `${quote(bits)} before the fingerprint is the key size that ssh-keygen -l prints, not a host pattern; ` +
    'keep only the SHA256:… field of the ssh-keygen -l line (drop the bit count before it and the comment and key type after it), ' +
    'optionally after a host pattern, e.g. "web1.example.com SHA256:…"'
  )
}

/**
 * Does a rule's pattern list apply to this host? Candidate names are the bare
 * host, the known_hosts name `[host]:port` and, except for IPv6 addresses,
 * `host:port` (`2001:db8::1:2222` is itself an address, not 2001:db8::1 port 2222);
 * a `!` pattern matching any of them vetoes the rule.
 */
function ruleApplies(pattern: string, host: string, port: number): boolean {
  const names = [host, lookupName(host, port), ...(host.includes(':') ? [] : [`${host}:${port}`])]
  const verdicts = names.map((name) => patternListVerdict(pattern, name))
  return !verdicts.includes('negated') && verdicts.includes('positive')
}

export function fingerprintAccepted(rules: FingerprintRule[], host: string, port: number, fingerprint: string): boolean {
  const wanted = normalizeFingerprint(fingerprint)
  if (wanted === null) return false
  return rules.some((r) => r.fingerprint === wanted && (r.pattern === null || ruleApplies(r.pattern, host, port)))
}
