/**
 * The one rule for every local file the action reads or writes on the runner (script-file,
 * upload, log-dir, results-file). A repository is untrusted input: a committed symlink
 * (`deploy.sh -> /proc/self/environ`, `deploy-logs/web1.log -> ~/.gitconfig`,
 * `out -> /elsewhere`) must not make the action read or write outside the workspace.
 *
 * - A relative path is resolved against the workspace and must stay inside it, lexically and
 *   really: the real path (every symlink resolved) lies inside the workspace's real path.
 *   An absolute path is accepted only where the README says so; one that is lexically inside
 *   the workspace follows the same rule as a relative one.
 * - A file read is opened once (O_NOFOLLOW, O_NONBLOCK so a FIFO cannot block), checked to be
 *   a regular file by fstat on that descriptor, and read with a byte cap (never trusting
 *   st.size, which is 0 for /proc files).
 * - A file written is unlinked, then created with O_EXCL|O_NOFOLLOW: a symlink or hard link
 *   of its name is replaced, never written through.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, unlinkSync, writeSync, type Stats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { quote } from '../engine/parse.js'
import { readScript, type Script } from '../engine/prepare/script.js'

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants

/** Why a local path was refused; the message says why (callers add the input's name and what is accepted). */
export class LocalFileError extends Error {
  constructor(
    readonly reason: 'outside' | 'absolute' | 'symlink' | 'missing' | 'not-regular' | 'too-big' | 'unreadable',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'LocalFileError'
  }
}

/** True when `path` is `parent` or lies under it (lexically; `..well-known` is a name, not a step up). */
export function isInside(parent: string, path: string): boolean {
  const rel = relative(parent, path)
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
}

/** The real path of `path`, or of its deepest existing ancestor joined with the missing rest. */
export function realPathOf(path: string): string {
  const missing: string[] = []
  let at = resolve(path)
  for (;;) {
    try {
      return join(realpathSync(at), ...missing.reverse())
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at) throw err
      if (code === 'ENOENT' && lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new LocalFileError('symlink', `${at} is a symbolic link to a path that does not exist`, { cause: err })
      }
      missing.push(at.slice(dirname(at).length).replace(/^[/\\]+/, ''))
      at = dirname(at)
    }
  }
}

export interface ResolveOptions {
  /** An absolute path outside the workspace is accepted (the README says so for this input). */
  absoluteAllowed: boolean
  /** No part of the path below the workspace may be a symbolic link, even one pointing inside it (log-dir). */
  noSymlinks?: boolean
}

/**
 * The path `path` (as given in an input) names, checked against the rule: inside the workspace
 * lexically and really, or absolute where allowed. Returns it as absolute path (`full`) and with
 * every symlink resolved (`real`: what to open). Throws LocalFileError.
 */
export function resolveInWorkspace(path: string, workspace: string, opts: ResolveOptions): { full: string; real: string } {
  workspace = resolve(workspace)
  const full = resolve(workspace, path)
  if (!isInside(workspace, full)) {
    if (!isAbsolute(path)) throw new LocalFileError('outside', `${full} is outside the workspace (${workspace})`)
    if (!opts.absoluteAllowed) throw new LocalFileError('absolute', `${path} is an absolute path outside the workspace (${workspace})`)
    return { full, real: realPathOf(full) }
  }
  if (opts.noSymlinks) {
    for (let at = full; at !== workspace && isInside(workspace, at); at = dirname(at)) {
      let st: Stats | undefined
      try {
        st = lstatSync(at)
      } catch {
        // not there (yet): created later, as a directory
      }
      if (st?.isSymbolicLink()) throw new LocalFileError('symlink', `${at} is a symbolic link, which is not followed`)
    }
  }
  const real = realPathOf(full)
  const realWorkspace = realPathOf(workspace)
  if (!isInside(realWorkspace, real)) {
    throw new LocalFileError('outside', `${full} leads through a symbolic link to ${real}, outside the workspace (${realWorkspace})`)
  }
  return { full, real }
}

function openError(path: string, err: unknown): LocalFileError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new LocalFileError('missing', `${path} does not exist`, { cause: err })
  if (code === 'ELOOP') return new LocalFileError('symlink', `${path} is a symbolic link, which is not followed`, { cause: err })
  return new LocalFileError('unreadable', `${path} cannot be read (${code ?? (err as Error).message})`, { cause: err })
}

function notRegular(path: string, st: Stats): LocalFileError {
  const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : 'a device or special file'
  return new LocalFileError('not-regular', `${path} is ${what}, not a regular file`)
}

const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK

/**
 * Reads a regular file: opened once without following a final symlink, checked by fstat on that
 * descriptor, at most `cap` bytes (a longer file is refused, whatever its st.size says).
 */
export function readRegularFile(path: string, cap: number): Buffer {
  let fd: number
  try {
    fd = openSync(path, READ_FLAGS)
  } catch (err) {
    throw openError(path, err)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw notRegular(path, st)
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(st.size + 1 - total, 64 * 1024), cap + 1 - total, 1 << 20))
      let n: number
      try {
        n = readSync(fd, chunk, 0, chunk.length, null)
      } catch (err) {
        throw openError(path, err)
      }
      if (n === 0) break
      chunks.push(chunk.subarray(0, n))
      total += n
      if (total > cap) throw new LocalFileError('too-big', `${path} is more than ${cap} bytes`)
    }
    return Buffer.concat(chunks, total)
  } finally {
    closeSync(fd)
  }
}

/** Opens a regular file for reading (O_NOFOLLOW, fstat on the descriptor); the caller reads at most `size` bytes and closes it. */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number; stats: Stats }> {
  let handle: FileHandle
  try {
    handle = await open(path, READ_FLAGS)
  } catch (err) {
    throw openError(path, err)
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw notRegular(path, stats)
    return { handle, size: stats.size, stats }
  } catch (err) {
    await handle.close()
    throw err
  }
}

const WRITE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

/**
 * Opens `path` to be written from scratch: whatever has that name (a file, a symlink, a hard
 * link) is unlinked first, then a new file is created exclusively, so no other file is ever
 * written through it. Returns the handle; the caller closes it.
 */
export async function openForWrite(path: string, mode = 0o644): Promise<FileHandle> {
  unlinkIfThere(path)
  return open(path, WRITE_FLAGS, mode)
}

/** openForWrite for a whole text, synchronously. */
export function writeNewFile(path: string, data: string | Buffer, mode = 0o644): void {
  unlinkIfThere(path)
  const fd = openSync(path, WRITE_FLAGS, mode)
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off)
  } finally {
    closeSync(fd)
  }
}

/**
 * Checks that an entry found under the workspace (e.g. by a glob) really lies inside it: its
 * parent directory's real path is inside the workspace's real path (the entry itself may be
 * a symlink, packed as a link). `cache` maps directories to their real paths. Returns the
 * real path of the entry's parent, or throws LocalFileError.
 */
export function checkEntryInside(path: string, realWorkspace: string, cache: Map<string, string>): string {
  const parent = dirname(path)
  let real = cache.get(parent)
  if (real === undefined) {
    real = realPathOf(parent)
    cache.set(parent, real)
  }
  if (!isInside(realWorkspace, real)) {
    const whereTo = join(real, path.slice(parent.length))
    throw new LocalFileError('outside', `${path} really lies at ${whereTo}, through a symbolic link, outside the workspace (${realWorkspace})`)
  }
  return real
}

/** log-dir: inside the workspace with no symbolic link on its way (a committed link would redirect the files), or absolute outside it. */
export function resolveLogDir(path: string, workspace: string): string {
  try {
    return resolveInWorkspace(path, workspace, { absoluteAllowed: true, noSymlinks: true }).full
  } catch (err) {
    if (!(err instanceof LocalFileError)) throw err
    throw new Error(
      `${quote(path)} is refused: ${err.message}; give a directory inside the workspace with no symbolic link on its path (e.g. ssh-fanout-logs), or an absolute path outside the workspace`,
      { cause: err },
    )
  }
}

/** Larger files belong in `upload`: the script is held in memory and sent to every host. */
export const MAX_SCRIPT_BYTES = 16 * 1024 * 1024

/** Reads the script-file (relative to the workspace, or absolute) once, on the runner, by the rule of local-files.ts. */
export function loadScriptFile(path: string, workspace: string): Script & { path: string } {
  const example = 'give the path of a script in the repository (check it out first with actions/checkout), e.g. scripts/deploy.sh'
  const bytes = loadWorkspaceFile(path, workspace, MAX_SCRIPT_BYTES, {
    example,
    what: 'the script to run, e.g. scripts/deploy.sh',
    tooBig: '16 MiB; send large files with upload and run them from command',
  })
  return { ...readScript(bytes), path }
}

/**
 * A regular file on the runner, relative to the workspace or absolute, at most `cap` bytes (a
 * script-file, an inventory, a host's key file); every way it cannot be read is an Error saying what to give.
 */
export function loadWorkspaceFile(path: string, workspace: string, cap: number, say: { example: string; what: string; tooBig: string }): Buffer {
  const where = isAbsolute(path) ? '' : ` (relative to the workspace, ${workspace})`
  try {
    const { real } = resolveInWorkspace(path, workspace, { absoluteAllowed: true })
    return readRegularFile(real, cap)
  } catch (err) {
    if (!(err instanceof LocalFileError)) throw err
    switch (err.reason) {
      case 'missing':
        throw new Error(`${quote(path)} does not exist${where}; ${say.example}`, { cause: err })
      case 'outside':
      case 'symlink':
        throw new Error(`${quote(path)} is refused: ${err.message}; ${say.example}, or an absolute path outside the workspace`, { cause: err })
      case 'not-regular':
        throw new Error(`${quote(path)} is not a regular file${where}; give the path of ${say.what}`, { cause: err })
      case 'too-big':
        throw new Error(`${quote(path)} is more than ${say.tooBig}`, { cause: err })
      default:
        throw new Error(`${quote(path)} cannot be read (${(err.cause as NodeJS.ErrnoException | undefined)?.code ?? err.message})${where}`, { cause: err })
    }
  }
}
