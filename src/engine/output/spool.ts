import { mkdtempSync, rmSync } from 'node:fs'
import { open, rm, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TAIL_LINES } from '../model.js'
import { maskSecrets, secretEndAtStart, secretStartAtEnd } from './secrets.js'

/** Bytes of the most recent output kept in memory for the result's last lines. */
const TAIL_MEMORY_BYTES = 16 * 1024
/** A single line in `results[].output` longer than this is cut. */
const MAX_TAIL_LINE_CHARS = 1000
const READ_CHUNK = 64 * 1024

/**
 * One host's output, spooled to disk so memory does not grow with output size or concurrency.
 * Output that fits the memory kept for the last lines anyway (TAIL_MEMORY_BYTES) never reaches
 * the disk: the file is opened when the output outgrows it (most commands print a few lines).
 *
 * The first half of `maxBytes` is kept as the head; after that, the file's second half is
 * a ring buffer holding the most recent bytes. Reading it back yields the whole output
 * when it fit, else the head, a line saying how much was left out, and the tail.
 * Writes are queued in arrival order; `write()` resolves when the chunk is on disk,
 * so the caller can pause its stream until then (backpressure).
 *
 * `secrets` are values the runner masks: no cut made here leaves a part of one (the log's cuts
 * do not split one; the last lines are masked before a long line is cut).
 */
export class OutputSpool {
  readonly path: string
  private readonly headBytes: number
  private readonly ringBytes: number
  private file: Promise<FileHandle> | null = null
  private queue: Promise<void> = Promise.resolve()
  private failure: Error | null = null
  private written = 0
  /** The output outgrew memory: it is in the file (and `recent` holds only its last part). */
  private onDisk = false
  /** The most recent chunks, at least TAIL_MEMORY_BYTES of them when there are that many (kept by reference, not copied). */
  private recent: Buffer[] = []
  private recentBytes = 0
  private readonly secrets: readonly string[]
  private secretBytesMade: readonly Buffer[] | undefined

  constructor(
    path: string,
    readonly maxBytes: number,
    secrets: readonly string[] = [],
  ) {
    this.path = path
    this.headBytes = Math.floor(maxBytes / 2)
    this.ringBytes = maxBytes - this.headBytes
    this.secrets = secrets.filter((v) => v.length > 0)
  }

  /** The secrets as bytes, made only when a cut in the file needs them (most hosts never spill to disk). */
  private get secretBytes(): readonly Buffer[] {
    return (this.secretBytesMade ??= this.secrets.map((v) => Buffer.from(v)))
  }

  /** Total bytes the host printed (including any left out of the log). */
  get totalBytes(): number {
    return this.written
  }

  get omittedBytes(): number {
    return Math.max(0, this.written - this.maxBytes)
  }

  write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return this.queue
    const start = this.written
    this.written += chunk.length
    // While all of it fits, `recent` is the whole output (remember() drops nothing below TAIL_MEMORY_BYTES).
    if (!this.onDisk && this.written <= Math.min(TAIL_MEMORY_BYTES, this.maxBytes)) {
      this.remember(chunk)
      return this.queue
    }
    if (!this.onDisk) {
      this.onDisk = true
      let at = 0
      for (const earlier of this.recent) {
        this.queue = this.queued(earlier, at)
        at += earlier.length
      }
    }
    this.remember(chunk)
    this.queue = this.queued(chunk, start)
    return this.queue
  }

  private queued(chunk: Buffer, start: number): Promise<void> {
    return this.queue
      .then(() => this.store(chunk, start))
      .catch((err: Error) => {
        this.failure ??= err
      })
  }

  /** Resolves when every queued chunk is on disk. */
  flush(): Promise<void> {
    return this.queue
  }

  /**
   * Spools a stream's output, pausing it until each chunk is written (backpressure). Resolves
   * when the stream ended (or failed) and all its chunks were handed to the spool.
   */
  readFrom(stream: NodeJS.ReadableStream): Promise<void> {
    stream.on('data', (chunk: Buffer) => {
      stream.pause()
      void this.write(chunk).then(() => stream.resume())
    })
    return new Promise((resolve) => {
      stream.once('end', resolve)
      stream.once('error', () => resolve())
    })
  }

  /** The last `TAIL_LINES` lines, decoded as UTF-8 (invalid bytes replaced), secrets masked; a very long line keeps its end. */
  tailLines(count = TAIL_LINES): string[] {
    const joined = Buffer.concat(this.recent)
    const window = joined.subarray(Math.max(0, joined.length - TAIL_MEMORY_BYTES))
    // Masked before any cut. (When the window starts inside a line, that line is dropped, or it is
    // the only one: then it is longer than the window and keeps only its end.)
    const text = maskSecrets(window.toString('utf8'), this.secrets)
    const lines = text.split(/\r?\n|\r/)
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    // When the memory window started mid-line, the first line is partial: drop it unless it is all we have.
    if (this.written > window.length && lines.length > 1) lines.shift()
    return lines.slice(-count).map((line) => (line.length > MAX_TAIL_LINE_CHARS ? `…${line.slice(-MAX_TAIL_LINE_CHARS)}` : line))
  }

  /** The log in order: head, then (when output passed maxBytes) a notice and the tail. */
  async *chunks(): AsyncGenerator<Buffer> {
    await this.flush()
    if (this.written === 0) return
    if (this.failure) {
      yield Buffer.from(`[ssh-fanout] the output could not be spooled to ${this.path}: ${this.failure.message}\n`)
      return
    }
    if (!this.onDisk) {
      yield Buffer.concat(this.recent)
      return
    }
    const fh = await this.handle()
    if (this.written <= this.maxBytes) {
      yield* readRange(fh, 0, this.written)
      return
    }
    const ringStart = (this.written - this.headBytes) % this.ringBytes
    // The ring in output order, as [position, length] ranges of the file.
    let tail: Array<[number, number]> = [
      [this.headBytes + ringStart, this.ringBytes - ringStart],
      [this.headBytes, ringStart],
    ]
    // Neither cut may split a secret: leave out what could be a secret's start or end there.
    const edge = Math.max(0, ...this.secretBytes.map((b) => b.length - 1))
    const headEdge = Math.min(this.headBytes, edge)
    const headEnd = this.headBytes - secretStartAtEnd(await readRanges(fh, [[this.headBytes - headEdge, headEdge]]), this.secretBytes)
    const tailSkip = secretEndAtStart(await readRanges(fh, take(tail, edge)), this.secretBytes)
    tail = drop(tail, tailSkip)
    yield* readRange(fh, 0, headEnd)
    const omitted = this.omittedBytes + (this.headBytes - headEnd) + tailSkip
    yield Buffer.from(
      `\n[ssh-fanout] … ${omitted} bytes of output left out here (the log keeps the first and last ${formatBytes(this.headBytes)}; raise max-output to keep more) …\n`,
    )
    for (const [position, length] of tail) yield* readRange(fh, position, length)
  }

  /** Closes and deletes the spool file. Safe to call more than once. */
  async dispose(): Promise<void> {
    await this.flush()
    const file = this.file
    this.file = null
    if (file) await (await file).close().catch(() => undefined)
    if (this.onDisk) await rm(this.path, { force: true })
  }

  private remember(chunk: Buffer): void {
    this.recent.push(chunk)
    this.recentBytes += chunk.length
    while (this.recentBytes - this.recent[0].length >= TAIL_MEMORY_BYTES) this.recentBytes -= this.recent.shift()!.length
  }

  private handle(): Promise<FileHandle> {
    this.file ??= open(this.path, 'w+', 0o600)
    return this.file
  }

  /** Writes `chunk`, which starts at output offset `start`, into the head or the ring. */
  private async store(chunk: Buffer, start: number): Promise<void> {
    const fh = await this.handle()
    let offset = 0
    if (start < this.headBytes) {
      const n = Math.min(chunk.length, this.headBytes - start)
      await writeAll(fh, chunk.subarray(0, n), start)
      offset = n
    }
    // Only the last ringBytes of what remains can survive in the ring.
    if (chunk.length - offset > this.ringBytes) offset = chunk.length - this.ringBytes
    while (offset < chunk.length) {
      const ringPos = (start + offset - this.headBytes) % this.ringBytes
      const n = Math.min(chunk.length - offset, this.ringBytes - ringPos)
      await writeAll(fh, chunk.subarray(offset, offset + n), this.headBytes + ringPos)
      offset += n
    }
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done)
    done += bytesWritten
  }
}

async function* readRange(fh: FileHandle, position: number, length: number): AsyncGenerator<Buffer> {
  let done = 0
  while (done < length) {
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, length - done))
    const { bytesRead } = await fh.read(buf, 0, buf.length, position + done)
    if (bytesRead === 0) return
    done += bytesRead
    yield buf.subarray(0, bytesRead)
  }
}

/** The first `n` bytes of a list of file ranges. */
function take(ranges: Array<[number, number]>, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (const [position, length] of ranges) {
    if (n <= 0) break
    out.push([position, Math.min(length, n)])
    n -= length
  }
  return out
}

/** A list of file ranges without its first `n` bytes. */
function drop(ranges: Array<[number, number]>, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (const [position, length] of ranges) {
    const skip = Math.min(length, n)
    n -= skip
    if (length > skip) out.push([position + skip, length - skip])
  }
  return out
}

async function readRanges(fh: FileHandle, ranges: Array<[number, number]>): Promise<Buffer> {
  const parts: Buffer[] = []
  for (const [position, length] of ranges) for await (const chunk of readRange(fh, position, length)) parts.push(Buffer.from(chunk))
  return Buffer.concat(parts)
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`
  return `${n} B`
}

/** A private directory for spool files (under RUNNER_TEMP in Actions), removed by `remove()`. */
export class SpoolDir {
  readonly path: string
  private count = 0

  /** `secrets`: values the runner masks (see OutputSpool). */
  constructor(
    parent: string = tmpdir(),
    private readonly secrets: readonly string[] = [],
  ) {
    this.path = mkdtempSync(join(parent, 'ssh-fanout-'))
  }

  spool(maxBytes: number): OutputSpool {
    this.count += 1
    return new OutputSpool(join(this.path, `host-${this.count}.log`), maxBytes, this.secrets)
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true })
  }
}
