/**
 * A `~regex` host pattern: Python's `re` syntax (ansible-core compiles it with re.compile and
 * calls .match: anchored at the start only), translated to a JS RegExp with the same meaning.
 *
 * Translated so they mean what Python means: `\d` `\w` `\s` (Unicode, as Python's str
 * patterns), `\b` `\B`, `\A` `\Z`, `$` (also before a final newline), `.` (anything but a
 * newline), `(?P<name>...)` `(?P=name)`, `{,n}`, a `{` or `}` that is no repeat (literal), a
 * leading `(?i)` `(?s)` `(?m)`, `\U` escapes, escaped punctuation.
 * Refused, because JS has no equivalent or means something else: `(?x)` `(?a)` `(?L)` and flags
 * after the start or scoped `(?i:...)`, `(?>...)` atomic groups, possessive `*+ ++ ?+ {m,n}+`,
 * conditionals `(?(1)...)`, `\N{name}`, octal escapes, `\D` `\W` `\S` inside `[...]`, a
 * repeat on a lookaround. Invalid as in Python: a repeat on an anchor, a reference to a group
 * not yet closed, a repeat inside a look-behind (fixed width; look-behind alternatives of
 * different widths are not caught: JS takes them). What remains is the same syntax in both.
 * Checked against Python's re over thousands of random regexes (test/engine/inventory-syntax).
 */
import { quote } from '../parse.js'
import { InventoryError } from './types.js'

/** Python's \w for str patterns: alphanumeric (letters, numbers) or underscore. */
export const PY_WORD = '\\p{L}\\p{N}_'
/** Python's \s for str patterns (str.isspace): includes \x1c-\x1f, not \ufeff. */
export const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'

const CLASS_ESCAPES: Record<string, string> = { d: '\\p{Nd}', w: PY_WORD, s: PY_SPACE }
const CONTROL: Record<string, string> = { a: '\\x07', f: '\\f', n: '\\n', r: '\\r', t: '\\t', v: '\\v' }
const SYNTAX = /[\\^$.*+?()[\]{}|/]/

/** A code point as a JS `u`-mode escape. */
const codePoint = (cp: number): string => `\\u{${cp.toString(16)}}`

class Translator {
  private i = 0
  private out = ''
  private flags = { i: false, m: false, s: false }
  /**
   * Open groups (a lookaround or not, the capturing group's number): a `)` with none open would
   * close our own `^(?:` wrapper. Python refers back only to closed groups (JS also to open or
   * later ones, as empty), so references are checked against `closed`.
   */
  private readonly open: { lookaround: boolean; behind?: boolean; group?: number }[] = []
  private readonly closed = new Set<number>()
  private readonly names = new Map<string, number>()
  private groups = 0
  /** What a repeat would apply to: Python repeats a lookaround (JS does not), never an anchor. */
  private last: 'none' | 'item' | 'anchor' | 'lookaround' = 'none'

  constructor(
    private readonly src: string[],
    private readonly pattern: string,
  ) {}

  refuse(what: string): never {
    throw new InventoryError(`the regex in host pattern ${quote(`~${this.pattern}`)} uses ${what}, which JavaScript reads differently; rewrite it without`)
  }

  invalid(why: string): never {
    throw new InventoryError(`host pattern ${quote(`~${this.pattern}`)} is not a valid regular expression: ${why}`)
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.i + offset]
  }

  private take(count: number): string {
    const s = this.src.slice(this.i, this.i + count).join('')
    this.i += count
    return s
  }

  translate(): RegExp {
    this.leadingFlags()
    while (this.i < this.src.length) this.atom()
    try {
      return new RegExp(`^(?:${this.out})`, this.flags.i ? 'iu' : 'u')
    } catch (err) {
      return this.invalid((err as Error).message.replace(/^Invalid regular expression: /, ''))
    }
  }

  /** Global flags are allowed only at the very start (Python 3.11). */
  private leadingFlags(): void {
    for (;;) {
      const m = /^\(\?([a-zA-Z]+)\)/.exec(this.src.slice(this.i, this.i + 12).join(''))
      if (!m) return
      for (const f of m[1]) {
        if (f === 'i' || f === 'm' || f === 's') this.flags[f] = true
        else if (f !== 'u') this.refuse(`the flag (?${f})`)
      }
      this.i += m[0].length
    }
  }

  private atom(): void {
    const c = this.src[this.i++]
    const before = this.last
    this.last = c === '^' || c === '$' ? 'anchor' : c === '|' || c === '(' ? 'none' : 'item'
    // A repeat applies to what came before; so does one after a comment (?#...).
    if (c === '*' || c === '+' || c === '?' || c === '{' || (c === '(' && this.peek() === '?' && this.peek(1) === '#')) this.last = before
    if (c === '\\') this.out += this.escape(false)
    else if (c === '[') this.charClass()
    else if (c === '(') this.group()
    else if (c === '.') this.out += this.flags.s ? '[^]' : '[^\\n]'
    else if (c === '^') this.out += this.flags.m ? '(?<![^\\n])' : '(?<![^])'
    else if (c === '$') this.out += this.flags.m ? '(?=\\n|(?![^]))' : '(?=\\n?(?![^]))'
    else if (c === '*' || c === '+' || c === '?') this.quantified(c)
    else if (c === '{') this.brace()
    else if (c === ')') this.closeGroup()
    else if (c === '|') this.out += c
    else this.out += SYNTAX.test(c) ? `\\${c}` : c
  }

  /** A repeat, then an optional lazy `?`; a `+` after it is Python's possessive repeat. */
  private quantified(q: string): void {
    if (this.last === 'anchor') this.invalid('nothing to repeat')
    if (this.last === 'lookaround') this.refuse('a repeat on a lookaround')
    // Python's look-behind must have a fixed width (JS takes any); alternatives of other widths are not caught here.
    if (!/^\{(\d+)\}$/.test(q) && this.open.some((g) => g.behind)) this.invalid('look-behind requires fixed-width pattern')
    this.last = 'item'
    this.out += q
    if (this.peek() === '?') this.out += this.take(1)
    else if (this.peek() === '+') this.refuse('a possessive repeat (*+, ++, ?+, {m,n}+)')
  }

  /** `{m}`, `{m,}`, `{,n}`, `{m,n}` repeat; any other `{` is a literal (sre_parse). */
  private brace(): void {
    const m = /^(\d*)(?:(,)(\d*))?\}/.exec(this.src.slice(this.i, this.i + 40).join(''))
    if (!m || m[0] === '}') {
      this.last = 'item'
      this.out += '\\{'
      return
    }
    this.i += m[0].length
    const lo = m[1] === '' ? '0' : m[1]
    this.quantified(m[2] ? `{${lo},${m[3]}}` : `{${lo}}`)
  }

  private closeGroup(): void {
    const group = this.open.pop()
    if (group === undefined) this.invalid('unbalanced parenthesis')
    if (group.group !== undefined) this.closed.add(group.group)
    this.last = group.lookaround ? 'lookaround' : 'item'
    this.out += ')'
  }

  /** A back reference: to a closed group only, as in Python. */
  private reference(group: number): void {
    if (!this.closed.has(group)) this.invalid(`invalid group reference ${group} (a group must be closed before it is referred to)`)
    this.last = 'item'
  }

  private group(): void {
    if (this.peek() !== '?') {
      this.open.push({ lookaround: false, group: ++this.groups })
      this.out += '('
      return
    }
    const rest = this.src.slice(this.i, this.i + 3).join('')
    if (rest.startsWith('?:') || rest.startsWith('?=') || rest.startsWith('?!') || rest.startsWith('?<=') || rest.startsWith('?<!')) {
      const n = rest.startsWith('?<') ? 3 : 2
      this.open.push({ lookaround: !rest.startsWith('?:'), behind: rest.startsWith('?<') })
      this.out += `(${this.take(n)}`
    } else if (rest.startsWith('?P<')) {
      const end = this.src.indexOf('>', this.i)
      const name = end < 0 ? '' : this.src.slice(this.i + 3, end).join('')
      this.names.set(name, ++this.groups)
      this.open.push({ lookaround: false, group: this.groups })
      this.i += 3
      this.out += '(?<'
    } else if (rest.startsWith('?P=')) {
      const end = this.src.indexOf(')', this.i)
      if (end < 0) this.invalid('missing ) after (?P=')
      const name = this.src.slice(this.i + 3, end).join('')
      this.reference(this.names.get(name) ?? 0)
      this.out += `\\k<${name}>`
      this.i = end + 1
    } else if (rest.startsWith('?#')) {
      const end = this.src.indexOf(')', this.i)
      if (end < 0) this.invalid('missing ) after comment')
      this.i = end + 1
    } else if (rest.startsWith('?>')) {
      this.refuse('an atomic group (?>...)')
    } else if (rest.startsWith('?(')) {
      this.refuse('a conditional group (?(...)...)')
    } else if (/^\?[-a-zA-Z]/.test(rest)) {
      this.refuse('inline flags after the start or scoped flags (?flags:...)')
    } else {
      this.invalid(`unknown extension (${rest}`)
    }
  }

  private charClass(): void {
    let body = ''
    if (this.peek() === '^') body += this.take(1)
    if (this.peek() === ']') body += '\\' + this.take(1) // `]` first is a literal
    for (;;) {
      const c = this.src[this.i++]
      if (c === undefined) this.invalid('unterminated character set')
      if (c === ']') break
      if (c === '\\') body += this.escape(true)
      else body += c === '[' || c === '^' ? `\\${c}` : c
    }
    this.out += `[${body}]`
  }

  /** The escape after a backslash, as Python reads it, in JS syntax. */
  private escape(inClass: boolean): string {
    const c = this.src[this.i++]
    if (c === undefined) this.invalid('bad escape (end of pattern)')
    if (CLASS_ESCAPES[c] !== undefined) return inClass ? CLASS_ESCAPES[c] : `[${CLASS_ESCAPES[c]}]`
    const lower = c.toLowerCase()
    if ((c === 'D' || c === 'W' || c === 'S') && CLASS_ESCAPES[lower] !== undefined) {
      if (inClass) this.refuse(`\\${c} inside [...]`)
      return `[^${CLASS_ESCAPES[lower]}]`
    }
    if (CONTROL[c] !== undefined) return CONTROL[c]
    if (!inClass && 'bBAZ'.includes(c)) this.last = 'anchor'
    if (c === 'b') return inClass ? '\\x08' : `(?:(?<=[${PY_WORD}])(?![${PY_WORD}])|(?<![${PY_WORD}])(?=[${PY_WORD}]))`
    // sre: \B never matches in an empty string.
    if (!inClass && c === 'B') return `(?!(?<![^])(?![^]))(?:(?<=[${PY_WORD}])(?=[${PY_WORD}])|(?<![${PY_WORD}])(?![${PY_WORD}]))`
    if (!inClass && c === 'A') return '(?<![^])'
    if (!inClass && c === 'Z') return '(?![^])'
    const hex = { x: 2, u: 4, U: 8 }[c]
    if (hex !== undefined) {
      const digits = this.src.slice(this.i, this.i + hex).join('')
      if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) this.invalid(`incomplete escape \\${c}${digits}`)
      this.i += hex
      const cp = parseInt(digits, 16)
      if (cp > 0x10ffff) this.invalid(`bad escape \\${c}${digits}`)
      return codePoint(cp)
    }
    if (c === 'N') this.refuse('\\N{...} named characters')
    if (/[0-9]/.test(c)) {
      // \0 and three octal digits are octal escapes; otherwise a group reference (sre_parse).
      const next = this.peek()
      const third = this.peek(1)
      if (inClass || c === '0' || (/[0-7]/.test(c) && next !== undefined && /[0-7]/.test(next) && third !== undefined && /[0-7]/.test(third))) {
        this.refuse('an octal escape (\\0, \\NNN)')
      }
      const ref = `${c}${next !== undefined && /[0-9]/.test(next) ? this.take(1) : ''}`
      this.reference(Number(ref))
      return `\\${ref}`
    }
    if (/[a-zA-Z]/.test(c)) this.invalid(`bad escape \\${c}`)
    // Python lets any other character be escaped; JS `u` mode only syntax characters.
    return SYNTAX.test(c) ? `\\${c}` : codePoint(c.codePointAt(0)!)
  }
}

/** `~regex` (without the `~`) as a RegExp that tests what Python's re.match would. */
export function pythonRegExp(pattern: string): RegExp {
  return new Translator(Array.from(pattern), pattern).translate()
}
