/**
 * The upload's fallback for hosts without `tar`: SFTP. Each file is written under a short
 * temporary name beside its final path (`.ssh-fanout-<token>-<n>`, 33 bytes whatever the
 * file's name) and renamed over it, so a file is never seen half-written.
 *
 * Pipelined: the operations of different entries are in flight together (up to
 * OPS_IN_FLIGHT), each waiting only for its own directory; small files are read from the
 * archive whole (at most BUFFERED_MAX bytes held), so the next entries can start while
 * their writes are answered. A file costs about four round trips (open; writes and mode;
 * close; rename), and those of many files overlap.
 */
import { createReadStream } from 'node:fs'
import { posix } from 'node:path'
import type ssh2 from 'ssh2'
import type { SFTPWrapper, Stats } from 'ssh2'
import { extract, type Header } from 'tar-stream'
import { sleep } from '../timers.js'
import { cancelled, entrySegments, lost, reason, READ_CHUNK, UploadError, type Progress, type UploadOptions } from './upload-shared.js'

/** Entries whose operations may be in flight at once. */
const OPS_IN_FLIGHT = 32
/** Files up to this size are read whole before they are written (the archive moves on meanwhile). */
const SMALL_FILE = 1024 * 1024
/** Bytes of small files held in memory at most. */
const BUFFERED_MAX = 8 * 1024 * 1024
/** Writes in flight per large file: pipelines its SFTP writes while bounding memory (each chunk is at most READ_CHUNK). */
const WRITES_IN_FLIGHT = 8
/** How long cleanup over SFTP may take after a failure or a cancel before the channel is closed anyway. */
const SFTP_CLEANUP_MS = 2_000

class SftpLost extends Error {}

function call<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)))
  })
}

function openSftp(client: ssh2.Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))))
}

export async function viaSftp(client: ssh2.Client, opts: UploadOptions, dest: string, token: string, progress: Progress, tarStderr: string): Promise<void> {
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
  let connectionLost = false
  const onLost = (): void => void (connectionLost = true)
  sftp.on('close', onLost)
  client.once('close', onLost)
  const file = createReadStream(opts.archivePath, { highWaterMark: READ_CHUNK })
  const tar = extract()
  let stop: (err: Error) => void = () => undefined
  const stopped = new Promise<never>((_, reject) => (stop = reject))
  stopped.catch(() => undefined)
  const placer = new Placer(sftp, token)
  // a cancel stops every operation at once: nothing is renamed into place after it
  const onAbort = (): void => {
    placer.stopped = true
    stop(cancelled())
  }
  opts.signal.addEventListener('abort', onAbort, { once: true })
  sftp.once('close', () => stop(new SftpLost()))

  try {
    await Promise.race([stopped, placer.mkdirs(dest)])
    file.on('data', (chunk) => progress.add(chunk.length))
    file.on('error', (err) => tar.destroy(err))
    file.pipe(tar)
    for await (const entry of tar) {
      const header = entry.header
      const path = posix.join(dest, ...entrySegments(header.name))
      await Promise.race([stopped, placer.place(path, header, entry)])
      entry.resume()
      await Promise.race([stopped, placer.room()])
    }
    await Promise.race([stopped, placer.drain()])
  } catch (err) {
    file.destroy()
    tar.destroy()
    placer.stopped = true
    const gone = connectionLost || err instanceof SftpLost
    if (!gone) await cleanup(sftp, placer)
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

/** After a failure: lets the operations in flight end, then removes the temporary files left, for at most SFTP_CLEANUP_MS. */
async function cleanup(sftp: SFTPWrapper, placer: Placer): Promise<void> {
  const removals = async (): Promise<void> => {
    await placer.settled()
    await Promise.all([...placer.temps].map((t) => call<void>((cb) => sftp.unlink(t, cb)).catch(() => undefined)))
  }
  const done = new AbortController()
  await Promise.race([removals(), sleep(SFTP_CLEANUP_MS, done.signal)])
  done.abort()
}

/** Places the archive's entries, several at once; each waits for its directory only. */
class Placer {
  /** Temporary files written and not renamed yet (removed after a failure). */
  readonly temps = new Set<string>()
  /** Set after a failure or cancel: no operation starts, no file is renamed into place from then on. */
  stopped = false
  /** Directory -> made sure it exists. */
  private readonly dirs = new Map<string, Promise<void>>()
  private readonly inFlight = new Set<Promise<void>>()
  private failure: Error | null = null
  private buffered = 0
  private count = 0
  private readonly extensions: Record<string, string>

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly token: string,
  ) {
    this.extensions = (sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {}
  }

  /** Creates `path` and its missing parents, one after the other (a race with another upload creating them is fine). */
  async mkdirs(path: string): Promise<void> {
    const segments = path.split('/').filter((s) => s !== '' && s !== '.')
    let current = path.startsWith('/') ? '/' : '.'
    for (const segment of segments) {
      current = posix.join(current, segment)
      const made = this.mkdir(current, null, true)
      this.dirs.set(current, made)
      await made
    }
  }

  /** Starts placing one entry; resolves once the entry's data has been read (large files: once written). */
  async place(path: string, header: Header, entry: AsyncIterable<unknown>): Promise<void> {
    const mode = (header.mode ?? 0o644) & 0o7777
    if (header.type === 'directory') {
      if (!this.dirs.has(path)) this.dirs.set(path, this.track(this.ensure(posix.dirname(path)).then(() => this.mkdir(path, mode))))
      return
    }
    if (header.type !== 'file' && header.type !== 'symlink') return // the packer writes no other kind
    const parent = this.ensure(posix.dirname(path))
    const temp = posix.join(posix.dirname(path), `.ssh-fanout-${this.token}-${(this.count++).toString(16).padStart(8, '0')}`)
    if (header.type === 'symlink') return void this.track(parent.then(() => this.symlink(header.linkname ?? '', temp, path)))
    if ((header.size ?? 0) > SMALL_FILE) {
      // read and written as it streams: the archive waits for it (the other entries' operations go on)
      return this.track(parent.then(() => this.write(temp, path, mode, (handle) => this.stream(handle, temp, entry))))
    }
    const chunks: Buffer[] = []
    for await (const chunk of entry) chunks.push(chunk as Buffer)
    const size = chunks.reduce((n, c) => n + c.length, 0)
    this.buffered += size
    const written = parent.then(() => this.write(temp, path, mode, (handle) => this.writeChunks(handle, temp, chunks)))
    void this.track(written.finally(() => (this.buffered -= size)))
  }

  /** Resolves when another entry may start (fewer than OPS_IN_FLIGHT in flight, BUFFERED_MAX not reached); rejects with the first failure. */
  async room(): Promise<void> {
    while (!this.failure && (this.inFlight.size >= OPS_IN_FLIGHT || this.buffered >= BUFFERED_MAX)) await Promise.race(this.inFlight)
    if (this.failure) throw this.failure
  }

  /** Resolves once every operation succeeded; rejects with the first failure. */
  async drain(): Promise<void> {
    while (!this.failure && this.inFlight.size > 0) await Promise.race(this.inFlight)
    if (this.failure) throw this.failure
  }

  /** Resolves once no operation is in flight, whatever their outcome. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight)
  }

  /** Counts an operation in flight; its failure is kept (the first one), its promise never rejects. */
  private track(op: Promise<void>): Promise<void> {
    const tracked: Promise<void> = op.catch((err: Error) => void (this.failure ??= err)).finally(() => this.inFlight.delete(tracked))
    this.inFlight.add(tracked)
    return op
  }

  /** The directory exists (made by an entry, or created here with the host's default mode when the archive has no entry for it). */
  private ensure(dir: string): Promise<void> {
    let made = this.dirs.get(dir)
    if (!made) {
      const parent = posix.dirname(dir)
      made = (parent === dir ? Promise.resolve() : this.ensure(parent)).then(() => this.mkdir(dir, null))
      this.dirs.set(dir, made)
    }
    return made
  }

  /** Creates one directory unless it exists; `mode` is applied only to a directory created here. `existing`: likely there (stat first). */
  private async mkdir(path: string, mode: number | null, existing = false): Promise<void> {
    if (existing && (await this.isDirectory(path))) return
    try {
      await call<void>((cb) => this.sftp.mkdir(path, cb))
    } catch (err) {
      if (await this.isDirectory(path)) return
      throw new UploadError(`upload: cannot create the directory ${path} on the host (${(err as Error).message})`, false)
    }
    if (mode !== null) await call<void>((cb) => this.sftp.chmod(path, mode, cb))
  }

  private async isDirectory(path: string): Promise<boolean> {
    try {
      return (await call<Stats>((cb) => this.sftp.stat(path, cb))).isDirectory()
    } catch {
      return false
    }
  }

  private async symlink(target: string, temp: string, path: string): Promise<void> {
    if (this.stopped) return
    this.temps.add(temp)
    await this.fail(
      temp,
      call<void>((cb) => this.sftp.symlink(target, temp, cb)),
    )
    await this.renameOver(temp, path)
  }

  /** A new file (exclusive create) filled by `fill`, given its mode, closed, then renamed over `path`. */
  private async write(temp: string, path: string, mode: number, fill: (handle: Buffer) => Promise<void>): Promise<void> {
    if (this.stopped) return
    this.temps.add(temp)
    const handle = await this.fail(
      temp,
      call<Buffer>((cb) => this.sftp.open(temp, 'wx', { mode: 0o600 }, cb)),
    )
    try {
      await Promise.all([
        fill(handle),
        this.fail(
          temp,
          call<void>((cb) => this.sftp.fchmod(handle, mode, cb)),
        ),
      ])
    } finally {
      await call<void>((cb) => this.sftp.close(handle, cb)).catch(() => undefined)
    }
    await this.renameOver(temp, path)
  }

  private async writeChunks(handle: Buffer, temp: string, chunks: Buffer[]): Promise<void> {
    let position = 0
    const writes = chunks.map((data) => {
      const at = position
      position += data.length
      return call<void>((cb) => this.sftp.write(handle, data, 0, data.length, at, cb))
    })
    await this.fail(temp, Promise.all(writes))
  }

  /** Streams one archive entry into the open file, several writes in flight, with backpressure. */
  private async stream(handle: Buffer, temp: string, entry: AsyncIterable<unknown>): Promise<void> {
    const inFlight = new Set<Promise<void>>()
    const state: { failure?: Error } = {}
    let position = 0
    try {
      for await (const chunk of entry) {
        const data = chunk as Buffer
        const write = call<void>((cb) => this.sftp.write(handle, data, 0, data.length, position, cb)).catch((err: Error) => void (state.failure ??= err))
        position += data.length
        inFlight.add(write)
        void write.finally(() => inFlight.delete(write))
        if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight)
        if (state.failure) throw state.failure
      }
      await Promise.all(inFlight)
      if (state.failure) throw state.failure
    } catch (err) {
      await Promise.all(inFlight)
      await this.fail(temp, Promise.reject(err as Error))
    }
  }

  /** The operation's failure as an UploadError naming the temporary file (SFTP session loss and UploadErrors pass). */
  private async fail<T>(temp: string, op: Promise<T>): Promise<T> {
    try {
      return await op
    } catch (err) {
      if (err instanceof UploadError || err instanceof SftpLost) throw err
      throw new UploadError(`upload: cannot write ${temp} on the host (${(err as Error).message})`, false)
    }
  }

  private async renameOver(from: string, to: string): Promise<void> {
    if (this.stopped) return
    const notADirectory = async (): Promise<void> => {
      const existing = await call<Stats>((cb) => this.sftp.lstat(to, cb)).catch(() => null)
      if (existing?.isDirectory()) throw new UploadError(`upload: cannot replace the directory ${to} on the host with a file`, false)
      return void existing
    }
    try {
      if (this.extensions['posix-rename@openssh.com'] === '1') {
        await call<void>((cb) => this.sftp.ext_openssh_rename(from, to, cb)).catch(async (err: Error) => {
          await notADirectory() // a file cannot replace a directory: say so
          throw err
        })
      } else {
        // plain SFTP rename refuses to overwrite: the old file goes first (never a half-written one)
        const existing = await call<Stats>((cb) => this.sftp.lstat(to, cb)).catch(() => null)
        if (existing?.isDirectory()) throw new UploadError(`upload: cannot replace the directory ${to} on the host with a file`, false)
        if (existing) await call<void>((cb) => this.sftp.unlink(to, cb)).catch(() => undefined)
        await call<void>((cb) => this.sftp.rename(from, to, cb))
      }
    } catch (err) {
      if (err instanceof UploadError) throw err
      throw new UploadError(`upload: cannot move ${from} to ${to} on the host (${(err as Error).message})`, false)
    }
    this.temps.delete(from)
  }
}
