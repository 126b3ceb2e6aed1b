/**
 * One exec channel on an authenticated ssh2 Client, run to its end: the command, optionally
 * stdin (a Buffer, or a stream opened once the command is ready for it), stdout and stderr
 * collected (bounded), the channel closed on abort, on a timeout or when the connection is
 * lost. Never rejects: the result says how it ended.
 *
 * The marker protocol. The host's login shell runs the command and may print first (a
 * `.bashrc` banner, on stdout or stderr, with or without a final newline). A command built
 * from a Marker prints a random marker line (`printf '\n%s%s\n' half half`) where its own
 * output starts: stdout before the first marker line is dropped, and so is stderr before a
 * marker line on stderr; stdin is sent only once the marker arrived (so that nothing the
 * login shell runs reads it). Marker lines can carry a result (`<marker> <text>`): their
 * texts are `lines`. The marker is written in the command as two halves, so a login shell
 * that echoes the command line cannot print it.
 */
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { Client, ClientChannel } from 'ssh2'

export class Marker {
  /** The marker line's text: 32 random hex digits. */
  readonly text: string
  private readonly halves: [string, string]
  constructor() {
    const hex = randomBytes(16).toString('hex')
    this.text = hex
    this.halves = [hex.slice(0, 16), hex.slice(16)]
  }
  /** The marker as two shell words (plain hex: no quoting needed), e.g. for a script's positional parameters. */
  get words(): string {
    return this.halves.join(' ')
  }
  /** Shell text that prints the marker line on stdout, then `payload` (shell words, e.g. `"$d"`) on the same line. */
  line(payload?: string): string {
    return payload === undefined ? `printf '\\n%s%s\\n' ${this.words}` : `printf '\\n%s%s %s\\n' ${this.words} ${payload}`
  }
  /** Shell text that prints the marker line on stderr: what the login shell printed there before it is dropped. */
  get stderrLine(): string {
    return `${this.line()} >&2`
  }
}

export interface RemoteExecOptions {
  /** The command as the login shell gets it; a function of a fresh Marker for the marker protocol. */
  command: string | ((marker: Marker) => string)
  /** Sent on stdin (once the marker arrived, with the marker protocol), then stdin is closed; none: closed at once. */
  stdin?: Buffer | (() => Readable)
  /** Aborting closes the channel: the result is `aborted` at once. */
  signal?: AbortSignal
  /** After this long the channel is closed and the result is `timeout` (0 or none: no limit). */
  timeoutMs?: number
  /** stdout kept (its start), in bytes; default 64 KiB. */
  maxStdout?: number
  /** stderr kept (its end), in bytes; default 4 KiB. */
  maxStderr?: number
  /** The channel opened (the host answered). */
  onOpen?(): void
}

/**
 * How the command ended: `exit` (an exit status or signal arrived, then the channel closed),
 * `closed` (the channel closed without either), `aborted`, `timeout`, `lost` (the connection
 * closed first), `no channel` (it could not be opened: `error`), `stdin failed` (reading the
 * stdin stream failed: `error`).
 */
export type RemoteExecEnd = 'exit' | 'closed' | 'aborted' | 'timeout' | 'lost' | 'no channel' | 'stdin failed'

export interface RemoteExecResult {
  end: RemoteExecEnd
  code: number | null
  /** Signal name as the host sent it (`KILL`), or null. */
  signal: string | null
  /** The marker line arrived on stdout (always true without the marker protocol). */
  ready: boolean
  /** Texts of the marker lines that carry one, in order. */
  lines: string[]
  /** stdout after the first marker line, marker lines left out (without the protocol: all of it), bounded. */
  stdout: string
  /** stderr after its marker line when one came, else all of it; its end, bounded. */
  stderr: string
  error: Error | null
}

const NL = 0x0a

/** Drops what comes before `\n<marker>\n` in a stream; passes everything after it. */
class MarkerFilter {
  private head = Buffer.alloc(0)
  found = false
  constructor(private readonly needle: Buffer) {}
  /** Bytes after the marker line's start (the marker included) once it was seen, else null. */
  push(chunk: Buffer): Buffer | null {
    if (this.found) return chunk
    this.head = Buffer.concat([this.head, chunk])
    const at = this.head.indexOf(this.needle)
    if (at === -1) {
      // keep what could be the start of the marker (a banner can be long)
      if (this.head.length > 8192) this.head = this.head.subarray(this.head.length - this.needle.length)
      return null
    }
    this.found = true
    const rest = this.head.subarray(at + 1)
    this.head = Buffer.alloc(0)
    return rest
  }
}

export function remoteExec(client: Client, opts: RemoteExecOptions): Promise<RemoteExecResult> {
  const marker = typeof opts.command === 'function' ? new Marker() : null
  const command = typeof opts.command === 'function' ? opts.command(marker!) : opts.command
  const maxStdout = opts.maxStdout ?? 64 * 1024
  const maxStderr = opts.maxStderr ?? 4096
  const markerBytes = marker ? Buffer.from(marker.text) : null

  return new Promise((resolve) => {
    let channel: ClientChannel | undefined
    let input: Readable | undefined
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let code: number | null = null
    let signal: string | null = null
    let exited = false
    let ready = marker === null
    const lines: string[] = []
    let stdout = Buffer.alloc(0)
    let pending = Buffer.alloc(0) // a line of stdout not ended yet (marker protocol)
    let emptyLine = false // an empty line of stdout not kept yet: the newline a marker line starts with, when one follows
    let stderr = Buffer.alloc(0)
    const outFilter = markerBytes ? new MarkerFilter(Buffer.concat([Buffer.from('\n'), markerBytes])) : null
    const errFilter = markerBytes ? new MarkerFilter(Buffer.concat([Buffer.from('\n'), markerBytes, Buffer.from('\n')])) : null
    let stderrBeforeMarker = Buffer.alloc(0)

    const keepOut = (bytes: Buffer): void => {
      if (stdout.length < maxStdout) stdout = Buffer.concat([stdout, bytes.subarray(0, maxStdout - stdout.length)])
    }
    const keepErr = (bytes: Buffer): void => {
      stderr = Buffer.concat([stderr, bytes])
      if (stderr.length > maxStderr) stderr = stderr.subarray(stderr.length - maxStderr)
    }

    const settle = (end: RemoteExecEnd, error: Error | null = null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      client.off('close', onLost)
      if (input) {
        if (channel) input.unpipe(channel)
        input.destroy()
      }
      if (end !== 'exit' && end !== 'closed') channel?.close()
      if (ready && emptyLine) keepOut(Buffer.from('\n'))
      if (ready && pending.length > 0) keepOut(pending)
      if (!errFilter?.found && stderrBeforeMarker.length > 0) keepErr(stderrBeforeMarker)
      resolve({ end, code, signal, ready, lines, stdout: stdout.toString(), stderr: stderr.toString(), error })
    }
    const onAbort = (): void => settle('aborted')
    const onLost = (): void => settle('lost')
    if (opts.signal?.aborted) return settle('aborted')
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    client.once('close', onLost)
    if (opts.timeoutMs && opts.timeoutMs > 0) timer = setTimeout(() => settle('timeout'), opts.timeoutMs)

    const sendStdin = (ch: ClientChannel): void => {
      if (opts.stdin === undefined) return
      if (Buffer.isBuffer(opts.stdin)) return void ch.end(opts.stdin)
      input = opts.stdin()
      input.once('error', (err) => settle('stdin failed', err))
      input.pipe(ch)
    }

    /** stdout after the marker line's start: marker lines give `lines`, the rest is kept. */
    const onLines = (bytes: Buffer): void => {
      pending = Buffer.concat([pending, bytes])
      for (let nl = pending.indexOf(NL); nl !== -1; nl = pending.indexOf(NL)) {
        const line = pending.subarray(0, nl)
        pending = pending.subarray(nl + 1)
        const isMarker =
          line.subarray(0, markerBytes!.length).equals(markerBytes!) && (line.length === markerBytes!.length || line[markerBytes!.length] === 0x20)
        if (isMarker) {
          emptyLine = false
          if (line.length > markerBytes!.length) lines.push(line.subarray(markerBytes!.length + 1).toString())
          if (!ready) {
            ready = true
            if (channel) sendStdin(channel)
          }
          continue
        }
        if (!ready) continue
        if (emptyLine) keepOut(Buffer.from('\n'))
        emptyLine = line.length === 0
        if (!emptyLine) keepOut(Buffer.concat([line, Buffer.from('\n')]))
      }
      if (pending.length > 64 * 1024) {
        if (ready) keepOut(pending)
        pending = Buffer.alloc(0)
      }
    }

    const onChannel = (ch: ClientChannel): void => {
      channel = ch
      opts.onOpen?.()
      let stdoutClosed = false
      let stderrEnded = false
      const finished = (): void => {
        if (stdoutClosed && stderrEnded) settle(exited ? 'exit' : 'closed')
      }
      ch.on('error', () => undefined)
      ch.on('data', (chunk: Buffer) => {
        if (!outFilter) return keepOut(chunk)
        const after = outFilter.push(chunk)
        if (after) onLines(after)
      })
      ch.stderr.on('data', (chunk: Buffer) => {
        if (!errFilter || errFilter.found) return keepErr(chunk)
        stderrBeforeMarker = Buffer.concat([stderrBeforeMarker, chunk])
        if (stderrBeforeMarker.length > 2 * maxStderr) stderrBeforeMarker = stderrBeforeMarker.subarray(stderrBeforeMarker.length - maxStderr)
        const after = errFilter.push(chunk)
        if (after) {
          stderrBeforeMarker = Buffer.alloc(0)
          keepErr(after.subarray(markerBytes!.length + 1))
        }
      })
      ch.stderr.once('close', () => {
        stderrEnded = true
        finished()
      })
      ch.on('exit', (c: number | null, s?: string) => {
        exited = true
        code = typeof c === 'number' ? c : null
        signal = s ?? null
      })
      ch.on('close', () => {
        stdoutClosed = true
        finished()
      })
      if (opts.stdin === undefined) ch.end()
      else if (ready) sendStdin(ch)
    }

    try {
      client.exec(command, (err, ch) => {
        if (settled) {
          ch?.close()
          return
        }
        if (err) return settle('no channel', err)
        onChannel(ch)
      })
    } catch (err) {
      settle('no channel', err as Error) // not connected
    }
  })
}
