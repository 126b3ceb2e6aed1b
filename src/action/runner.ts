/**
 * The few workflow commands and file commands the action needs, written exactly as
 * @actions/core 3.x writes them (lib/command.js, file-command.js, core.js, summary.js), so the
 * runner reads the same bytes. Hand-written because importing @actions/core pulls in
 * @actions/http-client and undici (for OIDC, which the action never uses): most of the
 * bundle, and most of the start-up time spent compiling it. test/action/runner.test.ts
 * compares every function's output with @actions/core's own.
 */
import { randomUUID } from 'node:crypto'
import { appendFileSync, existsSync } from 'node:fs'
import { access, appendFile, constants } from 'node:fs/promises'
import { EOL } from 'node:os'

/** Annotation properties the action sets (core's AnnotationProperties, title only). */
export interface AnnotationProperties {
  title?: string
}

/** core's toCommandValue: strings as they are, null/undefined as '', anything else as JSON. */
function toCommandValue(input: unknown): string {
  if (input === null || input === undefined) return ''
  if (typeof input === 'string' || input instanceof String) return String(input)
  return JSON.stringify(input)
}

/** The message part of a workflow command (`::cmd::data`). */
export function escapeData(s: unknown): string {
  return toCommandValue(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** A property value of a workflow command (`::cmd key=value,key=value::`). */
export function escapeProperty(s: unknown): string {
  return toCommandValue(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/:/g, '%3A').replace(/,/g, '%2C')
}

/**
 * One workflow command line, as core's Command.toString builds it: properties with an empty
 * value are left out, but the space after the name stays once any property key was given.
 */
export function formatCommand(command: string, properties: Record<string, unknown>, message: unknown): string {
  let line = `::${command || 'missing.command'}`
  const keys = Object.keys(properties)
  if (keys.length > 0) {
    line += ' '
    line += keys
      .filter((key) => properties[key])
      .map((key) => `${key}=${escapeProperty(properties[key])}`)
      .join(',')
  }
  return `${line}::${escapeData(message)}`
}

function issueCommand(command: string, properties: Record<string, unknown>, message: unknown): void {
  process.stdout.write(formatCommand(command, properties, message) + EOL)
}

/** core's toCommandProperties, for the properties the action uses. */
function annotation(properties: AnnotationProperties): Record<string, unknown> {
  return Object.keys(properties).length === 0 ? {} : { title: properties.title }
}

/** Masks a value in the job log from now on (`::add-mask::`). */
export function setSecret(secret: string): void {
  issueCommand('add-mask', {}, secret)
}

/** A plain log line. */
export function info(message: string): void {
  process.stdout.write(message + EOL)
}

export function error(message: string, properties: AnnotationProperties = {}): void {
  issueCommand('error', annotation(properties), message)
}

export function warning(message: string, properties: AnnotationProperties = {}): void {
  issueCommand('warning', annotation(properties), message)
}

export function notice(message: string, properties: AnnotationProperties = {}): void {
  issueCommand('notice', annotation(properties), message)
}

/** An error annotation, and the step fails (exit code 1). */
export function setFailed(message: string): void {
  process.exitCode = 1
  error(message)
}

/**
 * The `name<<delimiter` block core appends to the GITHUB_OUTPUT file, with a fresh random
 * delimiter that neither the name nor the value may contain.
 */
export function keyValueMessage(key: string, value: unknown, delimiter = `ghadelimiter_${randomUUID()}`): string {
  const converted = toCommandValue(value)
  if (key.includes(delimiter)) throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`)
  if (converted.includes(delimiter)) throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`)
  return `${key}<<${delimiter}${EOL}${converted}${EOL}${delimiter}`
}

/** Sets a step output: appended to the GITHUB_OUTPUT file, or (no such file, as core does) the legacy `::set-output` command. */
export function setOutput(name: string, value: unknown): void {
  const filePath = process.env.GITHUB_OUTPUT || ''
  if (filePath) {
    if (!existsSync(filePath)) throw new Error(`Missing file at path: ${filePath}`)
    appendFileSync(filePath, `${keyValueMessage(name, value)}${EOL}`, { encoding: 'utf8' })
    return
  }
  process.stdout.write(EOL)
  issueCommand('set-output', { name }, toCommandValue(value))
}

/** Appends text and a line end to the job summary file (core's `summary.addRaw(text, true).write()`). */
export async function appendSummary(text: string): Promise<void> {
  const filePath = process.env.GITHUB_STEP_SUMMARY
  if (!filePath) {
    throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.')
  }
  try {
    await access(filePath, constants.R_OK | constants.W_OK)
  } catch {
    throw new Error(`Unable to access summary file: '${filePath}'. Check if the file has correct read/write permissions.`)
  }
  await appendFile(filePath, text + EOL, { encoding: 'utf8' })
}
