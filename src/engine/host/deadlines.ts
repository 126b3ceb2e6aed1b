/**
 * A host's two deadlines: connect-timeout (from the start to the login, or to the command's start
 * when there is no preparation) and command-timeout (armed once, at the preparation or at the
 * command's start; re-armed later with what is left of it). Owns their timers; the stop's are the Stopper's.
 */
export class Deadlines {
  private readonly timers: NodeJS.Timeout[] = []
  /** When command-timeout runs out (0: no limit or not started). */
  private timeoutAt = 0

  constructor(
    private readonly commandTimeoutMs: number,
    private readonly onCommandTimeout: () => void,
  ) {}

  connect(deadline: number, onTimeout: () => void): void {
    this.timers.push(setTimeout(onTimeout, Math.max(0, deadline - Date.now())))
  }

  /** Starts command-timeout once (before the preparation, when there is one); later calls re-arm what is left of it. */
  command(): void {
    if (this.commandTimeoutMs <= 0) return
    if (this.timeoutAt === 0) this.timeoutAt = Date.now() + this.commandTimeoutMs
    this.timers.push(setTimeout(this.onCommandTimeout, Math.max(0, this.timeoutAt - Date.now())))
  }

  clear(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t)
  }
}
