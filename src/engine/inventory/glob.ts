/**
 * Python's fnmatch.translate (3.11, as ansible-core uses it for a host pattern without `~`),
 * written straight to a JS RegExp: `*` any run, `?` one character, `[seq]` / `[!seq]` a set
 * (`]` first is literal, `-` ranges, a reversed range matches nothing, an unclosed `[` is
 * literal), everything else literal; the whole name must match; case counts.
 */

/** Escapes a character for a JS `u`-mode pattern outside a class. */
const literal = (c: string): string => (/[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c)

/** Escapes a character inside a JS `u`-mode class. */
const classChar = (c: string): string => (/[\\\]^[-]/.test(c) ? `\\${c}` : c)

/**
 * The set between `[` and `]` (code points chars[from..to)), as fnmatch builds it: split into
 * chunks at the range hyphens, drop empty ranges, then each chunk literal.
 */
function charSet(chars: string[], from: number, to: number): string {
  const negated = chars[from] === '!'
  let i = from
  const chunks: string[][] = []
  let k = negated ? from + 2 : from + 1
  if (chars.slice(from, to).includes('-')) {
    for (;;) {
      k = chars.indexOf('-', k)
      if (k < 0 || k >= to) break
      chunks.push(chars.slice(i, k))
      i = k + 1
      k = k + 3
    }
    const last = chars.slice(i, to)
    if (last.length > 0) chunks.push(last)
    else chunks[chunks.length - 1].push('-')
    // Remove empty ranges (a chunk's last char after the next chunk's first).
    for (let c = chunks.length - 1; c > 0; c--) {
      const prev = chunks[c - 1]
      const cur = chunks[c]
      if (prev.length > 0 && cur.length > 0 && prev[prev.length - 1].codePointAt(0)! > cur[0].codePointAt(0)!) {
        chunks[c - 1] = [...prev.slice(0, -1), ...cur.slice(1)]
        chunks.splice(c, 1)
      }
    }
  } else {
    chunks.push(chars.slice(from, to))
  }
  const flat = chunks.flat()
  if (flat.length === 0) return '(?!)' // empty set: never matches
  if (flat.length === 1 && flat[0] === '!') return '[^]' // negated empty set: any character
  // The leading `!` sits in the first chunk; the other chunks are joined by range hyphens.
  const body = chunks.map((chunk, n) => (n === 0 && negated ? chunk.slice(1) : chunk).map(classChar).join('')).join('-')
  return negated ? `[^${body}]` : `[${body}]`
}

/** The JS source of fnmatch.translate(pattern), anchored at both ends. */
export function globSource(pattern: string): string {
  const chars = Array.from(pattern)
  const n = chars.length
  let out = ''
  let i = 0
  while (i < n) {
    const c = chars[i++]
    if (c === '*') {
      if (!out.endsWith('[^]*')) out += '[^]*'
    } else if (c === '?') {
      out += '[^]'
    } else if (c === '[') {
      let j = i
      if (j < n && chars[j] === '!') j++
      if (j < n && chars[j] === ']') j++
      while (j < n && chars[j] !== ']') j++
      if (j >= n) {
        out += '\\['
      } else {
        out += charSet(chars, i, j)
        i = j + 1
      }
    } else {
      out += literal(c)
    }
  }
  return `^(?:${out})$`
}

export function globRegExp(pattern: string): RegExp {
  return new RegExp(globSource(pattern), 'u')
}
