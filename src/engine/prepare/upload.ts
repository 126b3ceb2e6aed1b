/**
 * Sends a packed tar archive (see src/action/upload-files.ts) to one host over an
 * already-authenticated connection, before the command runs on that connection.
 *
 * Primary method: an exec channel running UPLOAD_SCRIPT (POSIX sh) that extracts the
 * archive with the remote `tar` into a staging directory inside the destination, then
 * renames every file and symlink into place. Fallback, when the host has no `tar`: SFTP,
 * each file written under a temporary name beside its final path and renamed over it.
 * Either way a file is never seen half-written at its final path, and a failed or
 * cancelled upload leaves no staging directory or temporary file behind (except, over
 * SFTP only, the one temporary file being written when the connection itself dies).
 *
 * The archive is streamed from disk with backpressure: memory stays bounded whatever its size.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream, type ReadStream } from 'node:fs'
import { posix } from 'node:path'
import type ssh2 from 'ssh2'
import type { ClientChannel, SFTPWrapper, Stats } from 'ssh2'
import { extract, type Header } from 'tar-stream'
import { shellQuote } from '../targets/env.js'

export class UploadError extends Error {
  constructor(
    message: string,
    /** true when the connection was lost: the whole upload may be tried again on a new connection */
    readonly retryable: boolean,
  ) {
    super(message)
    this.name = 'UploadError'
  }
}

export interface UploadOptions {
  archivePath: string
  /** size of the archive file, for the messages and the progress */
  bytes: number
  /** as the user gave it: absolute, relative to the login directory, or `~/...` */
  remoteDir: string
  signal: AbortSignal
  /** cumulative bytes of the archive sent so far (at most every PROGRESS_INTERVAL_MS, and once at the end) */
  onProgress?: (bytesSent: number) => void
}

const PROGRESS_INTERVAL_MS = 200
const READ_CHUNK = 256 * 1024
/** Remote stderr kept for error messages (the tail). */
const STDERR_KEEP = 4096
/** How long cleanup over SFTP may take after a failure or a cancel before the channel is closed anyway. */
const SFTP_CLEANUP_MS = 2_000

/**
 * The remote directory in the form both methods use: absolute, or relative to the
 * login directory (`./...`). `~` and `~/x` are the login directory and x in it.
 * Throws an Error saying what to write instead.
 */
export function resolveRemoteDir(dir: string): string {
  if (dir.trim() === '') throw new Error('the remote directory is empty; give an absolute path, or one relative to the login directory')
  if (/[\0\n\r]/.test(dir)) throw new Error('the remote directory contains a NUL or line break; give a plain path')
  if (dir.startsWith('/')) return dir
  if (dir === '~' || dir === '~/') return '.'
  if (dir.startsWith('~/')) return `./${dir.slice(2)}`
  if (dir.startsWith('~')) {
    throw new Error(`${JSON.stringify(dir)}: ~user paths are not supported; give an absolute path, or one relative to the login directory (~/ is accepted)`)
  }
  return dir.startsWith('./') ? dir : `./${dir}`
}

/**
 * Runs on the host under /bin/sh: $1 = destination (absolute or ./relative), $2 = token
 * unique to this connection. Prints READY once the staging directory exists, then reads
 * the tar archive on stdin. Exit codes: see EXIT below. Moving uses `mv -f file dir/`
 * (rename into the parent, same file system), so a symlink at the final path is replaced,
 * never followed; directories are created (mode copied from the archive) before the files
 * move into them. The EXIT trap removes the staging directory on every outcome; when the
 * connection drops, tar reads EOF and fails, and the trap runs.
 */
export const UPLOAD_SCRIPT = [
  `trap '' PIPE`,
  'unset CDPATH',
  'd=$1 s=.ssh-fanout-$2',
  `command -v tar >/dev/null 2>&1 || { echo 'ssh-fanout: tar: command not found' >&2; exit 97; }`,
  'mkdir -p -- "$d" && cd -P -- "$d" || exit 90',
  'mkdir -m 700 -- "$s" || exit 91',
  `trap 'rm -rf -- "$s"' EXIT`,
  `trap 'exit 129' HUP`,
  `trap 'exit 130' INT`,
  `trap 'exit 143' TERM`,
  // directories: created when missing, with the mode they have in the archive (ls -ld: drwxr-xr-x -> u=rwx,g=rx,o=rx)
  `D='for p; do t=../$p; [ -d "$t" ] && continue;` +
    ` if e=$(mkdir -- "$t" 2>&1); then` +
    ` m=$(LC_ALL=C ls -ld -- "$p" | cut -c2-10 | sed "s/^\\(...\\)\\(...\\)\\(...\\)\\$/u=\\1,g=\\2,o=\\3/;s/-//g;s/S/s/g;s/T/t/g");` +
    ` chmod "$m" "$t" || exit 1;` +
    ` elif [ ! -d "$t" ]; then printf "%s\\n" "$e" >&2; exit 1; fi; done'`,
  // files and symlinks: renamed into their parent directory (atomic replace)
  `M='for p; do mv -f -- "$p" "../\${p%/*}/" || exit 1; done'`,
  'echo ssh-fanout-ready',
  '(cd -- "$s" && exec tar -xpf -) || exit 92',
  '(cd -- "$s" && find . ! -name . -type d -exec /bin/sh -c "$D" sh {} + && find . ! -name . ! -type d -exec /bin/sh -c "$M" sh {} +) || exit 93',
  'exit 0',
].join('\n')

const READY = 'ssh-fanout-ready\n'
const EXIT = { noTar: 97, dest: 90, staging: 91, extract: 92, move: 93 } as const

export function uploadCommand(dest: string, token: string): string {
  return `/bin/sh -c ${shellQuote(UPLOAD_SCRIPT)} ssh-fanout-upload ${shellQuote(dest)} ${token}`
}

/** The last lines of the remote's stderr, for a message: `(line; line)`, or '' when there is none. */
function reason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  if (lines.length === 0) return ''
  let text = lines.slice(-2).join('; ')
  if (text.length > 300) text = `…${text.slice(-300)}`
  return ` (${text})`
}

class Progress {
  sent = 0
  private last = 0
  constructor(private readonly onProgress?: (bytes: number) => void) {}
  add(n: number): void {
    this.sent += n
    const now = Date.now()
    if (this.onProgress && now - this.last >= PROGRESS_INTERVAL_MS) {
      this.last = now
      this.onProgress(this.sent)
    }
  }
  final(): void {
    this.onProgress?.(this.sent)
  }
}

const cancelled = (): UploadError => new UploadError('upload: cancelled', false)
const lost = (sent: number): UploadError => new UploadError(`upload: connection lost after ${sent} bytes`, true)

/**
 * Sends the packed archive over an already-authenticated ssh2 Client (the same
 * connection that then runs the command). Resolves when every file is in place.
 * Rejects with an UploadError only.
 */
export async function uploadArchive(client: ssh2.Client, opts: UploadOptions): Promise<void> {
  let dest: string
  try {
    dest = resolveRemoteDir(opts.remoteDir)
  } catch (err) {
    throw new UploadError(`upload: ${(err as Error).message}`, false)
  }
  if (opts.signal.aborted) throw cancelled()
  const token = randomBytes(6).toString('hex')
  const progress = new Progress(opts.onProgress)
  const tar = await viaTar(client, opts, dest, token, progress)
  if (tar.noTar) await viaSftp(client, opts, dest, token, progress, tar.stderr)
  progress.final()
}

// ---------------------------------------------------------------------------
// tar over an exec channel

interface TarOutcome {
  /** the host has no tar (nothing was sent): fall back to SFTP */
  noTar: boolean
  stderr: string
}

function viaTar(client: ssh2.Client, opts: UploadOptions, dest: string, token: string, progress: Progress): Promise<TarOutcome> {
  return new Promise((resolve, reject) => {
    let channel: ClientChannel | undefined
    let file: ReadStream | undefined
    let settled = false
    let ready = false
    let stdout = ''
    let stderr = ''
    let exitCode: number | null = null
    let exitSignal: string | null = null

    const settle = (err: UploadError | null, noTar = false): void => {
      if (settled) return
      settled = true
      opts.signal.removeEventListener('abort', onAbort)
      client.off('close', onClientClose)
      if (file) {
        if (channel) file.unpipe(channel)
        file.destroy()
      }
      if (err) {
        channel?.close()
        reject(err)
      } else resolve({ noTar, stderr })
    }
    const onAbort = (): void => settle(cancelled())
    const onClientClose = (): void => settle(lost(progress.sent))
    opts.signal.addEventListener('abort', onAbort, { once: true })
    client.once('close', onClientClose)

    const send = (ch: ClientChannel): void => {
      file = createReadStream(opts.archivePath, { highWaterMark: READ_CHUNK })
      file.on('data', (chunk) => progress.add(chunk.length))
      file.on('error', (err) => settle(new UploadError(`upload: cannot read the packed files ${opts.archivePath} (${err.message})`, false)))
      file.pipe(ch)
    }

    const finished = (): void => {
      if (exitCode === null && exitSignal === null) return settle(lost(progress.sent))
      if (exitCode === 0 && ready) return settle(null)
      if (!ready && (exitCode === EXIT.noTar || exitCode === 127)) return settle(null, true)
      const why = reason(stderr)
      const what =
        exitCode === EXIT.dest
          ? `cannot create the directory ${dest} on the host`
          : exitCode === EXIT.staging
            ? `cannot write in ${dest} on the host`
            : exitCode === EXIT.extract
              ? `tar failed to unpack the files in ${dest} on the host`
              : exitCode === EXIT.move
                ? `cannot move the files into place in ${dest} on the host`
                : exitSignal !== null
                  ? `the upload script on the host was killed by SIG${exitSignal}`
                  : `the upload script on the host failed with exit code ${exitCode}`
      settle(new UploadError(`upload: ${what}${why}`, false))
    }

    client.exec(uploadCommand(dest, token), (err, ch) => {
      if (settled) {
        ch?.close()
        return
      }
      if (err) return settle(new UploadError(`upload: could not open a channel for the upload (${err.message})`, false))
      channel = ch
      ch.on('error', () => undefined)
      ch.on('data', (chunk: Buffer) => {
        if (ready) return
        stdout += chunk.toString('latin1')
        if (stdout.includes(READY)) {
          ready = true
          send(ch)
        } else if (stdout.length > 4096) stdout = stdout.slice(-64)
      })
      ch.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP)
      })
      ch.on('exit', (code: number | null, signalName?: string) => {
        exitCode = code
        exitSignal = signalName ?? null
      })
      ch.on('close', finished)
    })
  })
}

// ---------------------------------------------------------------------------
// SFTP fallback

class SftpLost extends Error {}

function call<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)))
  })
}

function openSftp(client: ssh2.Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))))
}

/** Entry name from the archive -> path segments, refusing anything that could leave the destination. */
function entrySegments(name: string): string[] {
  const segments = name.replace(/\/+$/, '').split('/')
  if (name.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UploadError(`upload: the packed files hold an unsafe name ${JSON.stringify(name)}`, false)
  }
  return segments
}

async function viaSftp(client: ssh2.Client, opts: UploadOptions, dest: string, token: string, progress: Progress, tarStderr: string): Promise<void> {
  let sftp: SFTPWrapper
  try {
    sftp = await openSftp(client)
  } catch (err) {
    const why = reason(`${tarStderr.trim().split('\n').at(-1) ?? ''}\n${(err as Error).message}`)
    throw new UploadError(`upload: the host has no tar command and no SFTP server${why}; install tar there, or enable its SFTP subsystem`, false)
  }
  if (opts.signal.aborted) {
    sftp.end()
    throw cancelled()
  }
  const temps = new Set<string>()
  let connectionLost = false
  const onLost = (): void => void (connectionLost = true)
  sftp.on('close', onLost)
  client.once('close', onLost)
  const file = createReadStream(opts.archivePath, { highWaterMark: READ_CHUNK })
  const tar = extract()
  let stop: (err: Error) => void = () => undefined
  const stopped = new Promise<never>((_, reject) => (stop = reject))
  stopped.catch(() => undefined)
  const onAbort = (): void => stop(cancelled())
  opts.signal.addEventListener('abort', onAbort, { once: true })
  sftp.once('close', () => stop(new SftpLost()))

  try {
    await Promise.race([stopped, mkdirs(sftp, dest)])
    file.on('data', (chunk) => progress.add(chunk.length))
    file.on('error', (err) => tar.destroy(err))
    file.pipe(tar)
    for await (const entry of tar) {
      const header = entry.header
      const path = posix.join(dest, ...entrySegments(header.name))
      await Promise.race([stopped, place(sftp, path, header, entry, token, temps)])
      entry.resume()
    }
  } catch (err) {
    file.destroy()
    tar.destroy()
    if (!connectionLost && !(err instanceof SftpLost)) await cleanup(sftp, temps)
    if (opts.signal.aborted) throw cancelled()
    if (connectionLost || err instanceof SftpLost) throw lost(progress.sent)
    if (err instanceof UploadError) throw err
    throw new UploadError(`upload: ${(err as Error).message}`, false)
  } finally {
    opts.signal.removeEventListener('abort', onAbort)
    client.off('close', onLost)
    sftp.end()
  }
}

/** Removes the temporary files left by a failed upload, for at most SFTP_CLEANUP_MS. */
async function cleanup(sftp: SFTPWrapper, temps: Set<string>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, SFTP_CLEANUP_MS)))
  const removals = Promise.all([...temps].map((t) => call<void>((cb) => sftp.unlink(t, cb)).catch(() => undefined)))
  await Promise.race([removals, deadline])
  clearTimeout(timer)
}

async function lstat(sftp: SFTPWrapper, path: string): Promise<Stats | null> {
  try {
    return await call<Stats>((cb) => sftp.lstat(path, cb))
  } catch {
    return null
  }
}

async function isDirectory(sftp: SFTPWrapper, path: string): Promise<boolean> {
  try {
    return (await call<Stats>((cb) => sftp.stat(path, cb))).isDirectory()
  } catch {
    return false
  }
}

/** Creates `path` and its missing parents (a race with another upload creating them is fine). */
async function mkdirs(sftp: SFTPWrapper, path: string): Promise<void> {
  const segments = path.split('/').filter((s) => s !== '' && s !== '.')
  let current = path.startsWith('/') ? '/' : '.'
  for (const segment of segments) {
    current = posix.join(current, segment)
    await mkdir(sftp, current, null)
  }
}

/** Creates one directory unless it exists; `mode` is applied only to a directory created here. */
async function mkdir(sftp: SFTPWrapper, path: string, mode: number | null): Promise<void> {
  if (await isDirectory(sftp, path)) return
  try {
    await call<void>((cb) => sftp.mkdir(path, cb))
  } catch (err) {
    if (await isDirectory(sftp, path)) return
    throw new UploadError(`upload: cannot create the directory ${path} on the host (${(err as Error).message})`, false)
  }
  if (mode !== null) await call<void>((cb) => sftp.chmod(path, mode, cb))
}

async function place(sftp: SFTPWrapper, path: string, header: Header, entry: AsyncIterable<unknown>, token: string, temps: Set<string>): Promise<void> {
  const mode = (header.mode ?? 0o644) & 0o7777
  if (header.type === 'directory') return mkdir(sftp, path, mode)
  if (header.type !== 'file' && header.type !== 'symlink') return // the packer writes no other kind
  const temp = posix.join(posix.dirname(path), `.${posix.basename(path)}.ssh-fanout-${token}`)
  if (!(await isDirectory(sftp, posix.dirname(path)))) await mkdirs(sftp, posix.dirname(path))
  temps.add(temp)
  try {
    if (header.type === 'symlink') {
      await call<void>((cb) => sftp.symlink(header.linkname ?? '', temp, cb))
    } else {
      await writeFile(sftp, temp, entry)
      await call<void>((cb) => sftp.chmod(temp, mode, cb))
    }
  } catch (err) {
    if (err instanceof UploadError || err instanceof SftpLost) throw err
    throw new UploadError(`upload: cannot write ${temp} on the host (${(err as Error).message})`, false)
  }
  await renameOver(sftp, temp, path)
  temps.delete(temp)
}

/** Writes in flight per file: pipelines the SFTP writes while bounding memory (each chunk is at most READ_CHUNK). */
const WRITES_IN_FLIGHT = 8

/** Streams one archive entry into a new file (exclusive create), several writes in flight, with backpressure. */
async function writeFile(sftp: SFTPWrapper, temp: string, entry: AsyncIterable<unknown>): Promise<void> {
  const handle = await call<Buffer>((cb) => sftp.open(temp, 'wx', { mode: 0o600 }, cb))
  const inFlight = new Set<Promise<void>>()
  const state: { failure?: Error } = {}
  let position = 0
  try {
    for await (const chunk of entry) {
      const data = chunk as Buffer
      const write = call<void>((cb) => sftp.write(handle, data, 0, data.length, position, cb)).catch((err: Error) => void (state.failure ??= err))
      position += data.length
      inFlight.add(write)
      void write.finally(() => inFlight.delete(write))
      if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight)
      if (state.failure) throw state.failure
    }
    await Promise.all(inFlight)
    if (state.failure) throw state.failure
  } finally {
    await Promise.all(inFlight)
    await call<void>((cb) => sftp.close(handle, cb)).catch(() => undefined)
  }
}

async function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  const existing = await lstat(sftp, to)
  if (existing?.isDirectory()) throw new UploadError(`upload: cannot replace the directory ${to} on the host with a file`, false)
  const extensions = (sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {}
  try {
    if (extensions['posix-rename@openssh.com'] === '1') {
      await call<void>((cb) => sftp.ext_openssh_rename(from, to, cb))
    } else {
      // plain SFTP rename refuses to overwrite: the old file goes first (never a half-written one)
      if (existing) await call<void>((cb) => sftp.unlink(to, cb)).catch(() => undefined)
      await call<void>((cb) => sftp.rename(from, to, cb))
    }
  } catch (err) {
    throw new UploadError(`upload: cannot move ${from} to ${to} on the host (${(err as Error).message})`, false)
  }
}
