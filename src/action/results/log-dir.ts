import { lstatSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { OutputSpool } from '../../engine/output/spool.js'
import type { HostResult, HostTarget } from '../../engine/model.js'
import { StreamMasker } from '../../engine/output/secrets.js'
import { openForWrite, writeNewFile } from '../local-files.js'

/** Names Windows keeps for devices, with or without an extension. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i

/**
 * A file name for a host's log that is valid on Linux, macOS and Windows runners: the label
 * with every character other than letters, digits, `.`, `-` and `_` replaced by `_`
 * (`[2001:db8::1]:2222` → `_2001_db8__1__2222.log`), unique within the run. Every name ends in
 * `.log`, so none is `results.json`.
 */
export function logFileName(label: string, taken: Set<string>): string {
  let base = label.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length))
  if (base === '') base = '_'
  if (RESERVED.test(base)) base = `${base}_`
  let name = `${base}.log`
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}-${n}.log`
  taken.add(name.toLowerCase())
  return name
}

/**
 * The `log-dir` input: one file per host with its output as the log keeps it (secrets masked,
 * since a file is not masked by the runner), and `results.json`. Only those files are written,
 * each created anew (local-files.ts): an existing symlink of that name is replaced, not followed.
 */
export class LogDir {
  private readonly taken = new Set<string>()
  /** Each target's file name, chosen in host order before the run (not in finishing order). */
  private readonly names = new Map<HostTarget, string>()
  /** Files that could not be written, with why: said once at the end. */
  readonly failures: string[] = []

  constructor(
    readonly path: string,
    private readonly secrets: readonly string[],
  ) {}

  /** Creates the directory, before any host is contacted. Throws a message for the input error. */
  create(): void {
    try {
      mkdirSync(this.path, { recursive: true })
    } catch (err) {
      throw new Error(
        `${this.path} cannot be created (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a writable directory, e.g. ssh-fanout-logs`,
        {
          cause: err,
        },
      )
    }
    if (!lstatSync(this.path).isDirectory()) throw new Error(`${this.path} exists and is not a directory; give a directory, e.g. ssh-fanout-logs`)
  }

  /** Names every host's file, in host order, so that a name never depends on which host finished first. */
  nameFiles(targets: readonly HostTarget[]): void {
    for (const target of targets) if (!this.names.has(target)) this.names.set(target, logFileName(target.label, this.taken))
  }

  /** Writes one host's output (an empty file when it has none, e.g. skipped). Never throws. */
  async writeHost(result: HostResult, output: OutputSpool | null): Promise<void> {
    const name = this.names.get(result.target) ?? logFileName(result.target.label, this.taken)
    try {
      // a symlink or hard link of that name is replaced, never written through
      const fh = await openForWrite(join(this.path, name), 0o644)
      try {
        if (output) {
          const masker = new StreamMasker(this.secrets)
          for await (const chunk of output.chunks()) await fh.write(masker.push(chunk))
          await fh.write(masker.end())
        }
      } finally {
        await fh.close()
      }
    } catch (err) {
      this.failures.push(`${name}: ${(err as Error).message}`)
    }
  }

  /** Writes `results.json` (every host's entry, untrimmed). Never throws. */
  writeResults(json: string): void {
    this.writeFile('results.json', json)
  }

  /** Writes `run.json` (results/run-json.ts), which report-from reads beside results.json. Never throws. */
  writeRun(json: string): void {
    this.writeFile('run.json', json)
  }

  private writeFile(name: string, text: string): void {
    try {
      writeNewFile(join(this.path, name), text, 0o644)
    } catch (err) {
      this.failures.push(`${name}: ${(err as Error).message}`)
    }
  }
}
