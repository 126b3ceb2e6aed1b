/**
 * The upload's fallback for hosts without `tar`: SFTP, each file written under a temporary name
 * beside its final path and renamed over it, so a file is never seen half-written.
 */
import { createReadStream } from 'node:fs'
import { posix } from 'node:path'
import type ssh2 from 'ssh2'
import type { SFTPWrapper, Stats } from 'ssh2'
import { extract, type Header } from 'tar-stream'
import { cancelled, entrySegments, lost, reason, READ_CHUNK, UploadError, type Progress, type UploadOptions } from './upload-shared.js'

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
