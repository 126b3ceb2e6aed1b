/**
 * Python's `shlex.split(line, comments=True)` (POSIX mode), which ansible-core's INI parser uses for a host
 * line: words split on space, tab, CR and LF; single quotes keep everything; double quotes keep everything
 * but `\"` and `\\`; a backslash outside quotes escapes any character; `#` outside quotes ends the line,
 * even inside a word. Throws a plain Error for an unclosed quote or a trailing backslash.
 */

const WHITESPACE = ' \t\r\n'

export function shlexSplit(line: string): string[] {
  const tokens: string[] = []
  let token = ''
  let quoted = false
  let inWord = false
  const emit = () => {
    if (inWord || quoted) tokens.push(token)
    token = ''
    quoted = false
    inWord = false
  }
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (WHITESPACE.includes(ch)) {
      emit()
    } else if (ch === '#') {
      break
    } else if (ch === "'" || ch === '"') {
      const close = readQuoted(line, i)
      token += close.text
      i = close.end
      quoted = true
      inWord = true
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new Error('No escaped character (a backslash ends the line)')
      token += line[++i]
      inWord = true
    } else {
      token += ch
      inWord = true
    }
  }
  emit()
  return tokens
}

/** The text inside the quotes opening at `start`, and the index of the closing quote. */
function readQuoted(line: string, start: number): { text: string; end: number } {
  const q = line[start]
  let text = ''
  for (let i = start + 1; i < line.length; i++) {
    const ch = line[i]
    if (ch === q) return { text, end: i }
    if (q === '"' && ch === '\\' && i + 1 < line.length) {
      const next = line[++i]
      // In double quotes only the quote and the backslash itself are escaped; otherwise both stay.
      text += next === '"' || next === '\\' ? next : ch + next
    } else if (q === '"' && ch === '\\') {
      throw new Error('No escaped character (a backslash ends the line)')
    } else {
      text += ch
    }
  }
  throw new Error(`No closing quotation (a ${q === '"' ? 'double' : 'single'} quote is not closed)`)
}
