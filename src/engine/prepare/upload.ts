/**
 * Sends a packed tar archive (see src/action/upload/upload-files.ts) to one host over an
 * already-authenticated connection, before the command runs on that connection.
 *
 * Primary method: an exec channel running UPLOAD_SCRIPT (POSIX sh) that extracts the
 * archive with the remote `tar` into a staging directory inside the destination, then
 * renames every file and symlink into place. Fallback, when the host has no `tar`: SFTP
 * (upload-sftp.ts), each file written under a temporary name beside its final path and
 * renamed over it. Either way a file is never seen half-written at its final path, and a
 * failed or cancelled upload leaves no staging directory or temporary file behind (except,
 * over SFTP only, the temporary files being written when the connection itself dies).
 *
 * The archive is streamed from disk with backpressure: memory stays bounded whatever its size.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import type ssh2 from 'ssh2'
import { extract, pack } from 'tar-stream'
import { shellQuote } from '../targets/env.js'
import { remoteExec, type Marker } from '../ssh/remote-exec.js'
import { viaSftp } from './upload-sftp.js'
import { cancelled, entrySegments, lost, Progress, READ_CHUNK, reason, UploadError, type ArchiveDirectory, type UploadOptions } from './upload-shared.js'

export { UploadError, type ArchiveDirectory, type UploadOptions } from './upload-shared.js'

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
 * unique to this connection, $3 $4 = the marker (see remote-exec.ts). Prints the marker on
 * stderr at once and on stdout once the staging directory exists, then reads the tar
 * archive on stdin. Exit codes: see EXIT below. The archive's first entry, DIRS, is a list
 * of `m MODE 'path'` lines written by us (paths shell-quoted, modes in octal, parents
 * first): sourced after the unpacking, it creates every directory missing at the
 * destination with its mode from the archive (setgid and sticky bits included).
 * The archive's last entry, END (empty, sent behind every file), shows that it arrived whole:
 * GNU tar exits 0 on an archive cut at an entry boundary (a cancel or a dropped connection
 * landing just there), so without END nothing is moved into place (exit 94).
 * Moving uses `mv -f file dir/` (rename into the parent, same file system), so a symlink
 * at the final path is replaced, never followed; directories are created before the files
 * move into them. The EXIT trap removes the staging directory on every outcome; when the
 * connection drops, tar reads EOF and fails, and the trap runs.
 */
export const UPLOAD_SCRIPT = [
  `trap '' PIPE`,
  'unset CDPATH',
  'd=$1 s=.ssh-fanout-$2 l=.ssh-fanout-dirs-$2 e=.ssh-fanout-end-$2',
  `printf '\\n%s%s\\n' "$3" "$4" >&2`,
  `command -v tar >/dev/null 2>&1 || { echo 'ssh-fanout: tar: command not found' >&2; exit 97; }`,
  'mkdir -p -- "$d" && cd -P -- "$d" || exit 90',
  'mkdir -m 700 -- "$s" || exit 91',
  `trap 'rm -rf -- "$s"' EXIT`,
  `trap 'exit 129' HUP`,
  `trap 'exit 130' INT`,
  `trap 'exit 143' TERM`,
  // a directory from the list (run inside the staging dir): created when missing, with its mode (a race with another upload creating it is fine)
  `m() { t=../$2; [ -d "$t" ] && return 0; if e=$(mkdir -- "$t" 2>&1); then chmod "$1" "$t" || exit 1; elif [ ! -d "$t" ]; then printf '%s\\n' "$e" >&2; exit 1; fi; }`,
  // directories the list does not name (none from our packer): created when missing
  `D='for p; do t=../$p; [ -d "$t" ] && continue; e=$(mkdir -- "$t" 2>&1) || [ -d "$t" ] || { printf "%s\\n" "$e" >&2; exit 1; }; done'`,
  // files and symlinks: renamed into their parent directory (atomic replace)
  `M='for p; do mv -f -- "$p" "../\${p%/*}/" || exit 1; done'`,
  `printf '\\n%s%s\\n' "$3" "$4"`,
  '(cd -- "$s" && exec tar -xpf -) || exit 92',
  '[ -f "$s/$e" ] && rm -f -- "$s/$e" || exit 94',
  '(cd -- "$s" && { [ ! -f "$l" ] || { . "./$l" && rm -f -- "$l"; }; } && find . ! -name . -type d -exec /bin/sh -c "$D" sh {} + && find . ! -name . ! -type d -exec /bin/sh -c "$M" sh {} +) || exit 93',
  'exit 0',
].join('\n')

const EXIT = { noTar: 97, dest: 90, staging: 91, extract: 92, move: 93, incomplete: 94 } as const

export function uploadCommand(dest: string, token: string, marker: Marker): string {
  return `/bin/sh -c ${shellQuote(UPLOAD_SCRIPT)} ssh-fanout-upload ${shellQuote(dest)} ${token} ${marker.words}`
}

/**
 * The archive's directory entries, read once from the packed file (every host gets the same
 * list): their modes are applied numerically on the host, never read back from `ls`.
 */
export async function listArchiveDirectories(archivePath: string): Promise<ArchiveDirectory[]> {
  const dirs: ArchiveDirectory[] = []
  const tar = extract()
  const file = createReadStream(archivePath, { highWaterMark: READ_CHUNK })
  file.on('error', (err) => tar.destroy(err))
  file.pipe(tar)
  try {
    for await (const entry of tar) {
      if (entry.header.type === 'directory') dirs.push({ name: entrySegments(entry.header.name).join('/'), mode: (entry.header.mode ?? 0o755) & 0o7777 })
      entry.resume()
    }
  } catch (err) {
    if (err instanceof UploadError) throw err
    throw new UploadError(`upload: cannot read the packed files ${archivePath} (${(err as Error).message})`, false)
  } finally {
    file.destroy()
  }
  return dirs
}

/** The list UPLOAD_SCRIPT sources: `m MODE 'path'` per directory, parents first. */
export function directoryList(dirs: ArchiveDirectory[]): Buffer {
  const depth = (name: string) => name.split('/').length
  const sorted = [...dirs].sort((a, b) => depth(a.name) - depth(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return Buffer.from(sorted.map((d) => `m ${d.mode.toString(8)} ${shellQuote(d.name)}\n`).join(''))
}

/** The archive's end-of-archive blocks (two zero records), which the stream sends after END. */
const END_OF_ARCHIVE = 1024

/** The entries sent before the packed archive (the directory list) and in place of its end (END, then the end blocks). */
export async function archiveFrame(dirs: ArchiveDirectory[], token: string): Promise<{ head: Buffer; tail: Buffer }> {
  const head = await tarEntry(`.ssh-fanout-dirs-${token}`, directoryList(dirs))
  const tail = Buffer.concat([await tarEntry(`.ssh-fanout-end-${token}`, Buffer.alloc(0)), Buffer.alloc(END_OF_ARCHIVE)])
  return { head, tail }
}

/** One tar entry (header, data, padding) holding `data` under `name`, without end-of-archive blocks. */
function tarEntry(name: string, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = pack()
    const parts: Buffer[] = []
    p.on('data', (chunk) => void parts.push(chunk as Buffer))
    p.on('error', reject)
    p.on('end', () => {
      const all = Buffer.concat(parts)
      resolve(all.subarray(0, all.length - END_OF_ARCHIVE))
    })
    p.entry({ name, size: data.length, mode: 0o600, type: 'file' }, data)
    p.finalize()
  })
}

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

async function viaTar(client: ssh2.Client, opts: UploadOptions, dest: string, token: string, progress: Progress): Promise<TarOutcome> {
  const frame = await archiveFrame(await (opts.directories ?? listArchiveDirectories(opts.archivePath)), token)
  if (opts.signal.aborted) throw cancelled()
  // the packed file ends with the end-of-archive blocks (tar-stream writes exactly those): END goes in their place
  const entriesEnd = opts.bytes - END_OF_ARCHIVE
  const archive = async function* (): AsyncGenerator<Buffer> {
    yield frame.head
    if (entriesEnd > 0) {
      for await (const chunk of createReadStream(opts.archivePath, { highWaterMark: READ_CHUNK, end: entriesEnd - 1 })) {
        progress.add((chunk as Buffer).length)
        yield chunk as Buffer
      }
    }
    progress.add(END_OF_ARCHIVE)
    yield frame.tail
  }
  const r = await remoteExec(client, { command: (marker) => uploadCommand(dest, token, marker), stdin: () => Readable.from(archive()), signal: opts.signal })
  switch (r.end) {
    case 'aborted':
      throw cancelled()
    case 'lost':
    case 'closed':
      throw lost(progress.sent)
    case 'no channel':
      throw new UploadError(`upload: could not open a channel for the upload (${r.error!.message})`, false)
    case 'stdin failed':
      throw new UploadError(`upload: cannot read the packed files ${opts.archivePath} (${r.error!.message})`, false)
    case 'timeout':
    case 'exit':
      break
  }
  const { code } = r
  if (code === 0 && r.ready) return { noTar: false, stderr: r.stderr }
  if (!r.ready && (code === EXIT.noTar || code === 127)) return { noTar: true, stderr: r.stderr }
  // the archive did not arrive whole (the channel was cut at an entry boundary): nothing was moved into place
  if (code === EXIT.incomplete) throw lost(progress.sent)
  const why = reason(r.stderr)
  const what =
    code === EXIT.dest
      ? `cannot create the directory ${dest} on the host`
      : code === EXIT.staging
        ? `cannot write in ${dest} on the host`
        : code === EXIT.extract
          ? `tar failed to unpack the files in ${dest} on the host`
          : code === EXIT.move
            ? `cannot move the files into place in ${dest} on the host`
            : r.signal !== null
              ? `the upload script on the host was killed by SIG${r.signal}`
              : `the upload script on the host failed with exit code ${code}`
  throw new UploadError(`upload: ${what}${why}`, false)
}
