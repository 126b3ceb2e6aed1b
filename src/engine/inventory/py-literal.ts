/**
 * ansible-core's INI value parsing (`_parse_value`): Python's `ast.literal_eval`, keeping the text as it is
 * when that raises. So `23` and `0x10` are numbers, `True`/`False` booleans, `None` null, `'a b'` a string,
 * `[1, 2]`, `(1, 2)` and `1, 2` lists, `{'a': 1}` a mapping; `true`, `07`, `web01` and `1 + 1` stay text.
 *
 * Where a Python literal has no counterpart here the text is kept too: complex numbers (`1j`), `...`,
 * `\N{name}` escapes, f-strings (which Python refuses anyway), and unhashable mapping keys. An integer
 * too large for a JavaScript number is kept as its decimal text.
 */
import type { VarValue } from './types.js'

/** The value of `text` as ansible-core's INI parser reads it. */
export function parseIniValue(text: string): VarValue {
  if (text.includes('\0')) return text // Python: source code cannot contain null bytes
  try {
    return new LiteralParser(text.replace(/^[ \t]+/, '')).top()
  } catch (err) {
    if (err === NOT_A_LITERAL) return text
    throw err
  }
}

class NotALiteral extends Error {}
/** One instance, thrown again and again: most INI values are plain text, and a stack trace each time costs. */
const NOT_A_LITERAL = new NotALiteral()
const fail = (): never => {
  throw NOT_A_LITERAL
}

type Token =
  | { kind: 'op'; text: string }
  | { kind: 'number'; value: number | string; int: boolean }
  | { kind: 'str'; value: string; bytes: boolean }
  | { kind: 'name'; text: string }
  | { kind: 'end' }

// Python's number tokens; a digit, letter, '_' or '.' right after one is a syntax error (or a complex number).
const RADIX_INT = /0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/y
const DIGITS = String.raw`[0-9](?:_?[0-9])*`
const FLOAT = new RegExp(String.raw`(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.)(?:[eE][-+]?${DIGITS})?|${DIGITS}[eE][-+]?${DIGITS}`, 'y')
const DEC_INT = new RegExp(DIGITS, 'y')
const NAME = /[\p{L}\p{Nl}_][\p{L}\p{N}\p{Mn}\p{Mc}_]*/uy
const STRING_PREFIXES = new Set(['', 'r', 'u', 'b', 'br', 'rb'])
const MAX_DEPTH = 200
/** CPython refuses decimal integer literals longer than this (sys.int_info.default_max_str_digits). */
const MAX_INT_DIGITS = 4300

class LiteralParser {
  private pos = 0
  private peeked: Token | null = null

  constructor(private readonly src: string) {}

  /** eval mode: one expression, or several separated by commas (a tuple). */
  top(): VarValue {
    const first = this.value(0)
    if (!this.accept(',')) return this.end(first)
    const items = [first]
    while (this.peek().kind !== 'end') {
      items.push(this.value(0))
      if (!this.accept(',')) break
    }
    return this.end(items)
  }

  private end(value: VarValue): VarValue {
    if (this.next().kind !== 'end') fail()
    return value
  }

  /** `depth`: the brackets already open around this value. */
  private value(depth: number): VarValue {
    const tok = this.next()
    if (tok.kind === 'number') return tok.value
    if (tok.kind === 'str') return this.strings(tok)
    if (tok.kind === 'name') return this.name(tok.text)
    if (tok.kind !== 'op') return fail()
    if ('([{'.includes(tok.text) && depth >= MAX_DEPTH) fail() // Python: too many nested parentheses
    switch (tok.text) {
      case '-':
      case '+':
        return this.signed(tok.text, depth)
      case '(':
        return this.parens(depth)
      case '[':
        return this.items(']', depth)
      case '{':
        return this.braces(depth)
      default:
        return fail()
    }
  }

  /** `-5`, `+0x10`, `-(1.5)`: a sign applies to one number only (not to `-(-5)` or `-True`). */
  private signed(sign: string, depth: number): VarValue {
    let opened = 0
    while (this.accept('(')) if (depth + ++opened > MAX_DEPTH) fail()
    const tok = this.next()
    if (tok.kind !== 'number') return fail()
    for (; opened > 0; opened--) if (!this.accept(')')) fail()
    const v = tok.value
    if (sign === '+') return v
    if (typeof v === 'string') return `-${v}` // a big integer's decimal text
    return tok.int && v === 0 ? 0 : -v // Python's -0 is 0; -0.0 stays -0.0
  }

  private parens(depth: number): VarValue {
    if (this.accept(')')) return []
    const first = this.value(depth + 1)
    if (this.accept(')')) return first
    if (!this.accept(',')) return fail()
    const items = [first]
    while (!this.accept(')')) {
      items.push(this.value(depth + 1))
      if (!this.accept(',')) {
        if (!this.accept(')')) fail()
        break
      }
    }
    return items
  }

  private items(close: string, depth: number, first?: VarValue): VarValue[] {
    const items: VarValue[] = first === undefined ? [] : [first]
    if (first !== undefined && !this.accept(',')) {
      if (!this.accept(close)) fail()
      return items
    }
    while (!this.accept(close)) {
      items.push(this.value(depth + 1))
      if (!this.accept(',')) {
        if (!this.accept(close)) fail()
        break
      }
    }
    return items
  }

  private braces(depth: number): VarValue {
    if (this.accept('}')) return {}
    const first = this.value(depth + 1)
    if (!this.accept(':')) return unique(this.items('}', depth, first)) // a set
    const dict = new Map<string, VarValue>()
    dict.set(keyText(first), this.value(depth + 1))
    while (this.accept(',')) {
      if (this.accept('}')) return Object.fromEntries(dict)
      const key = keyText(this.value(depth + 1))
      if (!this.accept(':')) fail()
      dict.set(key, this.value(depth + 1))
    }
    if (!this.accept('}')) fail()
    return Object.fromEntries(dict)
  }

  private strings(first: { value: string; bytes: boolean }): string {
    let text = first.value
    for (let tok = this.peek(); tok.kind === 'str'; tok = this.peek()) {
      if (tok.bytes !== first.bytes) fail() // Python: cannot mix bytes and nonbytes literals
      text += tok.value
      this.next()
    }
    return text
  }

  private name(text: string): VarValue {
    if (text === 'True') return true
    if (text === 'False') return false
    if (text === 'None') return null
    if (text === 'set' && this.accept('(') && this.accept(')')) return []
    return fail()
  }

  private accept(op: string): boolean {
    const tok = this.peek()
    if (tok.kind !== 'op' || tok.text !== op) return false
    this.next()
    return true
  }

  private peek(): Token {
    this.peeked ??= this.read()
    return this.peeked
  }

  private next(): Token {
    const tok = this.peek()
    this.peeked = null
    return tok
  }

  private read(): Token {
    const src = this.src
    while (this.pos < src.length && ' \t\f'.includes(src[this.pos])) this.pos++
    if (this.pos >= src.length || src[this.pos] === '#') return { kind: 'end' }
    const ch = src[this.pos]
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[this.pos + 1] ?? ''))) return this.number()
    const name = this.match(NAME)
    if (name !== null) {
      const quote = src[this.pos]
      if (quote !== "'" && quote !== '"') return { kind: 'name', text: name }
      if (!STRING_PREFIXES.has(name.toLowerCase())) return fail() // f-strings and unknown prefixes
      return this.string(name.toLowerCase())
    }
    if (ch === "'" || ch === '"') return this.string('')
    if ('()[]{},:+-'.includes(ch)) {
      this.pos++
      return { kind: 'op', text: ch }
    }
    return fail()
  }

  private number(): Token {
    let text = this.match(RADIX_INT)
    let value: number | string
    let int = true
    if (text !== null) {
      value = bigInt(BigInt(text.replace(/_/g, '')))
    } else if ((text = this.match(FLOAT)) !== null) {
      value = Number(text.replace(/_/g, ''))
      int = false
    } else {
      text = this.match(DEC_INT) ?? fail()
      const digits = text.replace(/_/g, '')
      if (/^0+[1-9]/.test(digits) || digits.length > MAX_INT_DIGITS) fail() // leading zeros: a SyntaxError
      value = bigInt(BigInt(digits))
    }
    if (/[\p{L}\p{N}_.]/u.test(this.src[this.pos] ?? '')) fail() // 1j (complex), 1_, 0x1g, 1.5.3
    return { kind: 'number', value, int }
  }

  private string(prefix: string): Token {
    const src = this.src
    const raw = prefix.includes('r')
    const bytes = prefix.includes('b')
    const q = src[this.pos]
    const triple = src.startsWith(q.repeat(3), this.pos)
    const delim = triple ? q.repeat(3) : q
    let i = this.pos + delim.length
    const start = i
    while (!src.startsWith(delim, i)) {
      if (i >= src.length) fail()
      i += src[i] === '\\' ? 2 : 1
    }
    const body = src.slice(start, i)
    this.pos = i + delim.length
    if (bytes && /[^\p{ASCII}]/u.test(body)) fail() // bytes can only contain ASCII literal characters
    if (raw) return { kind: 'str', value: body, bytes }
    return { kind: 'str', value: bytes ? decodeBytes(unescape(body, true)) : unescape(body, false), bytes }
  }

  private match(re: RegExp): string | null {
    re.lastIndex = this.pos
    const m = re.exec(this.src)
    if (m === null) return null
    this.pos += m[0].length
    return m[0]
  }
}

function bigInt(n: bigint): number | string {
  const safe = BigInt(Number.MAX_SAFE_INTEGER)
  return n <= safe && n >= -safe ? Number(n) : String(n)
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

/** Python's escape sequences; in bytes \u, \U and \N are not escapes, and \x.. \ooo are byte values. */
function unescape(body: string, bytes: boolean): string {
  return body.replace(
    /\\(?:([0-7]{1,3})|x(.{0,2})|u(.{0,4})|U(.{0,8})|(N)|([\s\S]))/g,
    (all, oct?: string, x?: string, u?: string, U?: string, n?: string, other?: string) => {
      if (oct !== undefined) {
        const code = parseInt(oct, 8)
        return String.fromCharCode(bytes ? code & 0xff : code)
      }
      if (x !== undefined) return /^[0-9a-fA-F]{2}$/.test(x) ? String.fromCharCode(parseInt(x, 16)) : fail()
      if (bytes && (u !== undefined || U !== undefined || n !== undefined)) return all
      if (u !== undefined) return /^[0-9a-fA-F]{4}$/.test(u) ? String.fromCharCode(parseInt(u, 16)) : fail()
      if (U !== undefined) {
        const code = /^[0-9a-fA-F]{8}$/.test(U) ? parseInt(U, 16) : fail()
        return code <= 0x10ffff ? String.fromCodePoint(code) : fail()
      }
      if (n !== undefined) return fail() // \N{NAME}: no Unicode name table here
      return other! in SIMPLE_ESCAPES ? SIMPLE_ESCAPES[other!] : all
    },
  )
}

/** ansible-core turns a bytes value into text: UTF-8, each byte that is not valid UTF-8 as U+DC80..U+DCFF (surrogateescape). */
function decodeBytes(latin1: string): string {
  const bytes = Uint8Array.from(latin1, (c) => c.charCodeAt(0))
  const strict = new TextDecoder('utf-8', { fatal: true })
  let out = ''
  for (let i = 0; i < bytes.length;) {
    const len = bytes[i] < 0x80 ? 1 : bytes[i] >= 0xf0 ? 4 : bytes[i] >= 0xe0 ? 3 : 2
    try {
      out += strict.decode(bytes.subarray(i, i + len))
      i += len
    } catch {
      out += String.fromCharCode(0xdc00 + bytes[i])
      i += 1
    }
  }
  return out
}

/** A set's members once each, in the order written (Python's own order is its hashing order). */
function unique(items: VarValue[]): VarValue[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    const key = keyText(item)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** A mapping key as text (as JSON writes Python's keys); lists and mappings cannot be keys. */
function keyText(key: VarValue): string {
  if (typeof key === 'string') return key
  if (key === null) return 'null'
  if (typeof key === 'object') return fail()
  return String(key)
}
