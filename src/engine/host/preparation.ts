/**
 * The preparation phase of one host's run, on the logged-in connection and inside command-timeout:
 * the Prepare (prepare/: upload, script staging) run once, what it staged removed once. Owns its
 * state: the steps, when it ran, the bytes sent, its abort.
 */
import type { Client } from 'ssh2'
import { formatSeconds } from '../format.js'
import type { Prepare, Prepared, PreparePhase } from '../prepare/prepare.js'

export class Preparation {
  /** The step running (the first step is announced by the Prepare; upload until then). */
  step: PreparePhase = 'upload'
  /** Upload bytes sent to this host so far. */
  bytes = 0
  /** The steps, in order, for messages. */
  private readonly steps: PreparePhase[] = []
  /** When it started and ended (0: not yet). */
  private readonly at = { start: 0, end: 0 }
  /** Aborted when the session ends: stops a preparation still running. */
  private readonly abort = new AbortController()
  /** What it staged on the host, to remove once the command ended. */
  private prepared: Prepared | null = null
  /** Removing what it staged, once started (at the stop, or when the session ends). */
  private cleaning: Promise<void> | null = null

  constructor(
    private readonly prepare: Prepare,
    /** The host's command and its env prefix, for the Prepare. */
    private readonly command: { command: string; envPrefix?: string },
    private readonly onUploadProgress?: (bytes: number) => void,
  ) {}

  /** Runs it: `done` with the command to run, or `failed` (its `retryable`: the connection was lost). */
  run(client: Client, events: { done(command: string): void; failed(err: Error & { retryable?: boolean }): void }): void {
    this.at.start = Date.now()
    const ctx = {
      ...this.command,
      signal: this.abort.signal,
      phase: (step: PreparePhase) => {
        this.step = step
        if (!this.steps.includes(step)) this.steps.push(step)
      },
      progress: (bytes: number) => {
        this.bytes = bytes
        this.onUploadProgress?.(bytes)
      },
    }
    this.prepare(client, ctx).then(
      (prepared) => {
        this.prepared = prepared
        this.at.end = Date.now()
        events.done(prepared.command)
      },
      (err: Error & { retryable?: boolean }) => events.failed(err),
    )
  }

  /** The session ended: a step still running is stopped. */
  stop(): void {
    this.abort.abort()
  }

  /** The step running, for timeout and cancel messages. */
  get runningWhat(): string {
    return this.step === 'upload' ? 'upload' : 'writing the script-file to the host'
  }

  /** Once it ended: ` (2 s went to the upload and writing the script-file to the host before it)`. */
  get tookBefore(): string {
    const what = this.steps.map((step) => (step === 'upload' ? 'the upload' : 'writing the script-file to the host')).join(' and ') || 'the preparation'
    return ` (${formatSeconds(this.at.end - this.at.start)} went to ${what} before it)`
  }

  /** Removes what it staged, once (at the stop, or at the end), while the connection lasts; never rejects. */
  cleanup(client: Client, connectionClosed: boolean): Promise<void> {
    this.cleaning ??= this.prepared?.cleanup && !connectionClosed ? this.prepared.cleanup(client) : null
    return this.cleaning ?? Promise.resolve()
  }
}
