/** What both upload methods (tar over exec, SFTP) share: the error, the progress, the messages, entry names. */

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
  /** The archive's directories (listArchiveDirectories), read once for every host; read here when not given. */
  directories?: Promise<ArchiveDirectory[]>
}

/** A directory entry of the archive: its name (no trailing slash) and mode (permission bits with setuid, setgid, sticky). */
export interface ArchiveDirectory {
  name: string
  mode: number
}

export const PROGRESS_INTERVAL_MS = 200
export const READ_CHUNK = 256 * 1024

export class Progress {
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

export const cancelled = (): UploadError => new UploadError('upload: cancelled', false)
export const lost = (sent: number): UploadError => new UploadError(`upload: connection lost after ${sent} bytes`, true)

/** The last lines of the remote's stderr, for a message: `(line; line)`, or '' when there is none. */
export function reason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  if (lines.length === 0) return ''
  let text = lines.slice(-2).join('; ')
  if (text.length > 300) text = `…${text.slice(-300)}`
  return ` (${text})`
}

/** Entry name from the archive -> path segments, refusing anything that could leave the destination. */
export function entrySegments(name: string): string[] {
  const segments = name.replace(/\/+$/, '').split('/')
  if (name.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UploadError(`upload: the packed files hold an unsafe name ${JSON.stringify(name)}`, false)
  }
  return segments
}
