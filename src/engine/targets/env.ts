/**
 * The `env` input: `NAME=value` lines passed to the remote command. Values reach
 * the command byte for byte: they are single-quoted for the remote POSIX shell,
 * so `$`, backticks, quotes and backslashes are never interpreted.
 * Error messages never echo a value, since values are often secrets.
 */

export interface EnvVar {
  name: string
  value: string
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Set by the session on every command (its run token, by which a stop finds the command's processes). */
export const RESERVED_NAME = 'SSH_FANOUT_RUN'
const LINE_FORM = 'write NAME=value, one per line (NAME: letters, digits and _, not starting with a digit)'

export function parseEnv(text: string): EnvVar[] {
  const vars: EnvVar[] = []
  const firstLine = new Map<string, number>()
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine
    if (line.trim() === '' || line.trimStart().startsWith('#')) return
    const variable = parseLine(line, index + 1)
    const earlier = firstLine.get(variable.name)
    if (earlier !== undefined) {
      throw new Error(`line ${index + 1}: ${variable.name} is already set on line ${earlier}; set each name once`)
    }
    firstLine.set(variable.name, index + 1)
    vars.push(variable)
  })
  return vars
}

function parseLine(line: string, lineNumber: number): EnvVar {
  const eq = line.indexOf('=')
  if (eq === -1) {
    throw new Error(`line ${lineNumber} has no '='; ${LINE_FORM} (the line is not shown in case it holds a secret)`)
  }
  const name = line.slice(0, eq)
  const value = line.slice(eq + 1)
  if (name === '') throw new Error(`line ${lineNumber}: the name before '=' is empty; ${LINE_FORM}`)
  if (!NAME_RE.test(name)) throw new Error(`line ${lineNumber}: ${JSON.stringify(name)} is not a valid variable name; ${LINE_FORM}`)
  if (name === RESERVED_NAME)
    throw new Error(`line ${lineNumber}: ${RESERVED_NAME} is set by ssh-fanout itself (it marks the command's processes); use another name`)
  if (value.includes('\0')) throw new Error(`line ${lineNumber}: the value of ${name} contains a NUL byte, which cannot be passed to a command`)
  return { name, value }
}

/** POSIX single-quoting: the shell takes everything between the quotes literally. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/**
 * Shell text that sets and exports the variables; put it directly before the
 * user's command: `envPrefix(vars) + command`. Empty list -> ''.
 */
export function envPrefix(vars: readonly EnvVar[]): string {
  if (vars.length === 0) return ''
  for (const { name, value } of vars) {
    if (!NAME_RE.test(name)) throw new Error(`${JSON.stringify(name)} is not a valid variable name; ${LINE_FORM}`)
    if (value.includes('\0')) throw new Error(`the value of ${name} contains a NUL byte, which cannot be passed to a command`)
  }
  const assignments = vars.map(({ name, value }) => `${name}=${shellQuote(value)}\n`).join('')
  return `${assignments}export ${vars.map((v) => v.name).join(' ')}\n`
}
