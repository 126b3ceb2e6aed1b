/**
 * Stopping a host's command on timeout or cancel: a TERM signal request, after the grace period
 * KILL and the sweep (a second channel that KILLs every process carrying the run token), then
 * the host is finished when the command's channel and the sweep ended, or after stopWaitMs.
 * Owns the stop's timers and what it learnt; the session decides when to stop.
 */
import type { Client } from 'ssh2'
import { RESERVED_NAME } from '../targets/env.js'
import { remoteExec } from '../ssh/remote-exec.js'
import type { StopFacts, StopRecord } from './outcome.js'

/**
 * The variable that marks every process of the command: its value is the session's run token
 * (128 random bits), put in the command's environment the way `env` is. The sweep kills by it.
 */
export const RUN_TOKEN_NAME = RESERVED_NAME

/**
 * Run by the sweep (below) with the run token's variable empty in its own environment, so that
 * neither it nor its children (subshells, grep, tr) match. Each pass lists the processes whose
 * environment has exactly SSH_FANOUT_RUN=<token>, and the command's own shell, which exported it
 * (a process's environment in /proc is the one it started with) but whose command line holds
 * SSH_FANOUT_RUN='<token>' (one `grep` over /proc where grep has -z, that pattern on its stdin
 * so that it does not match itself; else tr | grep per process, each started after the list of
 * processes was made), and KILLs them; it exits 0 once a pass finds none (killed processes are gone or
 * zombies by then: their environment and command line read empty), 1 after 10 passes. No
 * single quotes here; the token is hex.
 */
const sweepScript = (token: string): string =>
  [
    `t=${RUN_TOKEN_NAME}=${token}`,
    'q=$(printf "\\047")',
    `c="${RUN_TOKEN_NAME}=\${q}${token}\${q}"`,
    'if printf "%s\\0" "$t" | grep -qzxF "$t" 2>/dev/null; then',
    '  list() {',
    '    grep -lzxF "$t" /proc/[0-9]*/environ 2>/dev/null',
    '    printf "%s\\n" "$c" | grep -lF -f - /proc/[0-9]*/cmdline 2>/dev/null',
    '  }',
    'else',
    '  list() {',
    '    for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" 2>/dev/null < "$f" | grep -qxF "$t" && echo "$f"; done',
    '    for f in /proc/[0-9]*/cmdline; do tr "\\0" "\\n" 2>/dev/null < "$f" | grep -qF "$c" && echo "$f"; done',
    '  }',
    'fi',
    'n=0',
    'while [ $n -lt 10 ]; do',
    '  pids=',
    '  for f in $(list); do p=${f#/proc/}; pids="$pids ${p%/*}"; done',
    '  [ -z "$pids" ] && exit 0',
    '  kill -KILL $pids 2>/dev/null',
    '  n=$((n + 1))',
    'done',
    'exit 1',
  ].join('\n')

/** Kills every process that carries the run token (Linux /proc; finds nothing elsewhere). */
const sweepCommand = (token: string): string => `exec env ${RUN_TOKEN_NAME}= sh -c '${sweepScript(token)}'`

export interface StopHooks {
  client: Client
  runToken: string
  /** Sends a signal request on the command's channel; false when it could not go out. */
  signal(name: string): boolean
  /** Starts removing what the preparation staged (once). */
  cleanup(): void
  /** The command's channel closed and its output ended. */
  commandClosed(): boolean
  /** The stop is over: the session finishes with the command's outcome. */
  done(): void
  /** After KILL: how long to wait for the host to confirm the command ended. */
  stopWaitMs: number
}

export class Stopper implements StopFacts {
  /** The stop we started, or null. */
  record: StopRecord | null = null
  /** The sweep channel was requested and has not ended yet. */
  sweeping = false
  /** The host answered after KILL (the sweep channel opened). */
  answeredStop = false
  /** The connection closed while we were stopping the command. */
  lostWhileStopping = false
  private readonly timers: NodeJS.Timeout[] = []

  constructor(private readonly hooks: StopHooks) {}

  get killSent(): boolean {
    return this.record?.signals.includes('KILL') ?? false
  }

  /** Records why we stop the command; a cancellation during a timeout's stop takes over its status. */
  begin(status: StopRecord['status'], what: string, exited: boolean): void {
    this.record = { status, what, afterExit: this.record?.afterExit ?? exited, signals: this.record?.signals ?? [] }
  }

  /**
   * Stops the remote command: TERM, then after `graceMs` KILL and the sweep; done once the
   * channel and the sweep ended, or after stopWaitMs. (ssh2's `channel.signal()` does nothing
   * once stdin is closed: `hooks.signal` goes through the protocol; OpenSSH signals the command's whole process group.)
   */
  start(graceMs: number): void {
    this.clear()
    this.send('TERM')
    // What the preparation staged (a script-file) is removed now, on its own channel, not after the stop.
    this.hooks.cleanup()
    this.timers.push(
      setTimeout(() => {
        this.send('KILL')
        this.sweep()
        this.timers.push(setTimeout(() => this.hooks.done(), this.hooks.stopWaitMs))
      }, graceMs),
    )
  }

  /** The command's channel closed: done unless a running sweep may still be killing its other processes. */
  commandClosed(): void {
    if (!this.sweeping) this.hooks.done()
  }

  clear(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t)
  }

  private send(name: string): void {
    if (this.hooks.signal(name) && this.record && !this.record.signals.includes(name)) this.record.signals.push(name)
  }

  /**
   * OpenSSH ignores signal requests in root sessions ("session signalling requires privilege
   * separation"), and a command's children may have left its process group. A second channel
   * on the same connection KILLs every process that carries the command's run token (Linux
   * /proc; a no-op elsewhere) and ends once they are gone. The token is this session's alone:
   * SSH_CONNECTION recurs (source ports come round; behind a bastion every target sees its address).
   */
  private sweep(): void {
    this.sweeping = true
    void remoteExec(this.hooks.client, { command: sweepCommand(this.hooks.runToken), onOpen: () => void (this.answeredStop = true) }).then(() => {
      if (!this.sweeping) return
      this.sweeping = false
      if (this.hooks.commandClosed()) this.hooks.done()
    })
  }
}
