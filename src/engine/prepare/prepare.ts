import type { Client } from 'ssh2'
import { removeStaged, scriptCommand, stageScript, type Script } from './script.js'
import { listArchiveDirectories, uploadArchive, type ArchiveDirectory } from './upload.js'

/** What a host's connection needs before its command runs: files to upload, a script to stage. */
export interface Preparation {
  /** The environment prefix every command starts with (`envPrefix(env)`). */
  envPrefix: string
  /** The full remote command, environment prefix included (run when there is no script). */
  command: string
  /** The script-file to run instead of a command. */
  script?: Script
  /** The archive packed once for the run, sent to every host before its command. */
  upload?: { archivePath: string; bytes: number; remoteDir: string }
}

/** The phases before the command, named in timeout and cancel messages. */
export type PreparePhase = 'upload' | 'script'

export interface PrepareContext {
  /** This host's command (environment prefix included), when the session has one; else the Preparation's. */
  command?: string
  /** This host's environment prefix, when the session has one; else the Preparation's. */
  envPrefix?: string
  /** Aborted when the host's session ends early (timeout, cancel, connection lost). */
  signal: AbortSignal
  /** The step now running, for messages. */
  phase(name: PreparePhase): void
  /** Bytes of the upload sent so far to this host. */
  progress(bytes: number): void
}

/** The host is ready: the command to run, and what to remove once it ended (any outcome). */
export interface Prepared {
  command: string
  cleanup?(client: Client): Promise<void>
}

/** How long removing a staged script may take before the session ends without it. */
export const CLEANUP_TIMEOUT_MS = 2_000

/** Runs the preparation on one authenticated connection; rejects with UploadError (its `retryable` says whether the connection was lost). */
export type Prepare = (client: Client, ctx: PrepareContext) => Promise<Prepared>

export function preparer(p: Preparation): Prepare {
  // The archive's directories (and modes), read once for every host.
  let directories: Promise<ArchiveDirectory[]> | undefined
  return async (client, ctx) => {
    if (p.upload) {
      ctx.phase('upload')
      directories ??= listArchiveDirectories(p.upload.archivePath)
      await uploadArchive(client, { ...p.upload, directories, signal: ctx.signal, onProgress: (bytes) => ctx.progress(bytes) })
    }
    if (!p.script) return { command: ctx.command ?? p.command }
    ctx.phase('script')
    const dir = await stageScript(client, p.script, ctx.signal)
    return {
      command: scriptCommand(ctx.envPrefix ?? p.envPrefix, p.script, dir),
      cleanup: (c) => removeStaged(c, dir, CLEANUP_TIMEOUT_MS),
    }
  }
}
