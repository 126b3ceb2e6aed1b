import './esm-shim.js'
import { once } from 'node:events'
import * as core from '@actions/core'
import { InputError, readInputFromEnv } from './action/inputs.js'
import { run } from './action/run.js'

/** Entry point: run, turn any error into one setFailed, exit only after stdout has drained. */
async function main(): Promise<void> {
  try {
    process.exitCode = (await run(readInputFromEnv)) ? 0 : 1
  } catch (err) {
    const message = err instanceof InputError ? err.message : `ssh-fanout failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`
    core.setFailed(message)
  }
  // Exit only once stdout has drained: the end of the log (closing groups and markers) must not be lost.
  if (process.stdout.writableLength > 0) await once(process.stdout, 'drain')
  // Anything still holding the event loop (a socket a host never closed) must not keep the step alive.
  setTimeout(() => process.exit(), 3_000).unref()
}

void main()
