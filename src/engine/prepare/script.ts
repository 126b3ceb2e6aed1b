import type { Client } from 'ssh2'
import { shellQuote } from '../targets/env.js'
import { UploadError } from './upload.js'

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

/**
 * Writes the script to a private directory made for this connection (`mktemp -d`: mode 0700,
 * unique name; the file 0700) and resolves with that directory. The remote shell is POSIX sh.
 */
const STAGE_COMMAND = 'umask 077 && d=$(mktemp -d "${TMPDIR:-/tmp}/ssh-fanout.XXXXXXXXXX") && cat > "$d/script" && chmod 700 "$d/script" && printf "%s\\n" "$d"'

export function stageScript(client: Client, script: Script, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new UploadError('upload: cancelled', false))
    client.exec(STAGE_COMMAND, (err, channel) => {
      if (err) return reject(new UploadError(`upload: could not open a channel to write the script-file on the host (${err.message})`, false))
      let stdout = ''
      let stderr = ''
      let code: number | null = null
      const onAbort = () => channel.close()
      signal.addEventListener('abort', onAbort, { once: true })
      channel.on('data', (d: Buffer) => (stdout += d.toString()))
      channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      channel.on('exit', (c: number | null) => (code = c))
      channel.on('error', () => undefined)
      channel.on('close', () => {
        signal.removeEventListener('abort', onAbort)
        const dir = stdout.trim()
        if (signal.aborted) return reject(new UploadError('upload: cancelled', false))
        if (code === 0 && dir.startsWith('/')) return resolve(dir)
        const why = lastLine(stderr) || (code === null ? 'the channel closed without an exit status' : `exit status ${code}`)
        reject(new UploadError(`upload: could not write the script-file to a private temporary file on the host (${why})`, code === null))
      })
      channel.end(script.text)
    })
  })
}

/** The remote command that runs the staged script: the environment prefix, then its interpreter (or `sh`) on the file. */
export function scriptCommand(envPrefix: string, script: Script, dir: string): string {
  const interpreter = script.interpreter ?? ['sh']
  return `${envPrefix}exec ${[...interpreter, `${dir}/script`].map(shellQuote).join(' ')}`
}

/** Removes the staged script's directory; resolves (never rejects) once done, failed, or after `timeoutMs`. */
export function removeStaged(client: Client, dir: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    try {
      client.exec(`rm -rf -- ${shellQuote(dir)}`, (err, channel) => {
        if (err) return done()
        channel.on('error', () => undefined).resume()
        channel.stderr.resume()
        channel.on('close', done)
        channel.end()
      })
    } catch {
      done()
    }
  })
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  return (lines.at(-1) ?? '').trim().slice(0, 300)
}
