import type { Client } from 'ssh2'
import { shellQuote } from '../targets/env.js'
import { remoteExec } from '../ssh/remote-exec.js'
import { UploadError } from './upload-shared.js'

/** A `script-file`, read once on the runner. */
export interface Script {
  /** The file's bytes, as sent to every host. */
  text: Buffer
  /** Interpreter and its optional argument from the `#!` line (as the kernel splits it); null: `sh`. */
  interpreter: string[] | null
}

/** Reads the `#!` line the way Linux does: the interpreter, then everything after it as one optional argument. */
export function parseShebang(text: Buffer): string[] | null {
  if (text[0] !== 0x23 || text[1] !== 0x21) return null
  const end = text.indexOf(0x0a)
  const line = text
    .subarray(2, end === -1 ? Math.min(text.length, 256) : end)
    .toString('utf8')
    .replace(/\r$/, '')
    .trim()
  if (line === '') return null
  const split = /^(\S+)(?:\s+(.*))?$/.exec(line)!
  return split[2] ? [split[1], split[2].trim()] : [split[1]]
}

export function readScript(text: Buffer): Script {
  return { text, interpreter: parseShebang(text) }
}

/** What mktemp makes for a staged script; the only kind of path ever removed (`rm -rf`) on the host. */
const STAGED_DIR = /^\/(?:[^\0\n]*\/)?ssh-fanout\.[A-Za-z0-9]{10}$/

/** True for an absolute path whose last segment is `ssh-fanout.` and mktemp's 10 letters and digits. */
export function isStagedDir(dir: string): boolean {
  return STAGED_DIR.test(dir)
}

/**
 * Run on the host under /bin/sh: $1 = the script's size in bytes, $2 $3 = the marker (see
 * remote-exec.ts). Makes a private directory (`mktemp -d`: mode 0700, unique name), prints
 * the marker line with its path, then writes stdin to `script` (0700). A script that did not
 * arrive whole (the channel or the connection closed early: a cancel, a timeout, a dropped
 * connection) is removed with its directory by the EXIT trap, on the host, without the client.
 */
export const STAGE_SCRIPT = [
  `trap '' PIPE`,
  `printf '\\n%s%s\\n' "$2" "$3" >&2`,
  'umask 077',
  'd=$(mktemp -d "${TMPDIR:-/tmp}/ssh-fanout.XXXXXXXXXX") || exit 1',
  `trap 'rm -rf -- "$d"' EXIT`,
  `trap 'exit 129' HUP`,
  `trap 'exit 130' INT`,
  `trap 'exit 143' TERM`,
  `printf '\\n%s%s %s\\n' "$2" "$3" "$d"`,
  'cat > "$d/script" || exit 1',
  'n=$(wc -c < "$d/script") || exit 1',
  `[ $n -eq "$1" ] || { echo "ssh-fanout: the script-file arrived incomplete ($n of $1 bytes)" >&2; exit 1; }`,
  'chmod 700 "$d/script" || exit 1',
  'trap - EXIT',
  'exit 0',
].join('\n')

const cancelled = (): UploadError => new UploadError('upload: cancelled', false)

/** Writes the script to a private directory made for this connection and resolves with that directory. */
export async function stageScript(client: Client, script: Script, signal: AbortSignal): Promise<string> {
  if (signal.aborted) throw cancelled()
  const r = await remoteExec(client, {
    command: (marker) => `/bin/sh -c ${shellQuote(STAGE_SCRIPT)} ssh-fanout-stage ${script.text.length} ${marker.words}`,
    stdin: script.text,
    signal,
  })
  if (r.end === 'aborted') throw cancelled()
  if (r.end === 'no channel') throw new UploadError(`upload: could not open a channel to write the script-file on the host (${r.error!.message})`, false)
  const dir = r.lines[0] ?? ''
  if (r.end === 'exit' && r.code === 0 && isStagedDir(dir)) return dir
  const noStatus = r.end !== 'exit'
  const why =
    lastLine(r.stderr) ||
    (noStatus
      ? 'the channel closed without an exit status'
      : !r.ready
        ? `exit status ${r.code ?? `SIG${r.signal}`} before the temporary directory was made`
        : r.code === 0
          ? `the host named an unexpected temporary directory ${JSON.stringify(dir)}`
          : `exit status ${r.code ?? `SIG${r.signal}`}`)
  throw new UploadError(`upload: could not write the script-file to a private temporary file on the host (${why})`, noStatus)
}

/** The file descriptor the run command holds the staged script on. */
const SCRIPT_FD = 9

/**
 * The remote command that runs the staged script. It opens the file on descriptor 9; where
 * the host has /dev/fd (checked by an external `test`, as the interpreter will open it)
 * it removes the directory at once and runs the interpreter on /dev/fd/9, so nothing is
 * left on the host whatever happens to the connection; elsewhere it runs the file by its
 * path (the client removes the directory afterwards). Then the environment prefix, then its
 * interpreter (or `sh`). Node resolves its script's real path, which a removed file has not:
 * it is given --preserve-symlinks-main.
 */
export function scriptCommand(envPrefix: string, script: Script, dir: string): string {
  if (!isStagedDir(dir)) throw new Error(`not a staged script directory: ${JSON.stringify(dir)}`)
  const file = shellQuote(`${dir}/script`)
  const fd = `/dev/fd/${SCRIPT_FD}`
  const interpreter = forDescriptor(script.interpreter ?? ['sh'])
  return [
    `exec ${SCRIPT_FD}< ${file} || exit 126`,
    `if env test -r ${fd}; then rm -rf -- ${shellQuote(dir)}; set -- ${fd}; else set -- ${file}; fi`,
    `${envPrefix}exec ${interpreter.map(shellQuote).join(' ')} "$1"`,
  ].join('\n')
}

const NODE = /^(node|nodejs)$/

/** The interpreter with what it needs to run a script given as /dev/fd/N (node: --preserve-symlinks-main). */
function forDescriptor(interpreter: string[]): string[] {
  const name = (path: string) => path.slice(path.lastIndexOf('/') + 1)
  const [program, arg] = interpreter
  if (NODE.test(name(program))) return [...interpreter, '--preserve-symlinks-main']
  if (name(program) === 'env' && arg !== undefined) {
    if (NODE.test(arg)) return [...interpreter, '--preserve-symlinks-main']
    // env -S 'node --flag': the flag goes in the string env splits
    if (/^-S\s*(node|nodejs)(\s|$)/.test(arg)) return [program, `${arg} --preserve-symlinks-main`]
  }
  return interpreter
}

/** Removes the staged script's directory (when it is one: see isStagedDir); resolves (never rejects) once done, failed, or after `timeoutMs`. */
export async function removeStaged(client: Client, dir: string, timeoutMs: number): Promise<void> {
  if (!isStagedDir(dir)) return
  await remoteExec(client, { command: (marker) => `rm -rf -- ${shellQuote(dir)}; ${marker.line()}`, timeoutMs })
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  return (lines.at(-1) ?? '').trim().slice(0, 300)
}
