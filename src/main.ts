import * as core from '@actions/core'
import { InputError, readInputFromEnv } from './action/inputs.js'
import { run as runAction } from './action/run.js'

/**
 * The action: reads the inputs, runs the command on every host, reports. Never throws: any error
 * becomes the step's one `setFailed` (an input mistake as its own message, anything else with
 * its stack). `process.exitCode` says whether the step succeeded.
 * `src/index.ts` calls it in the runner; `npx @github/local-action run . src/main.ts .env` calls it locally.
 */
export async function run(): Promise<void> {
  try {
    process.exitCode = (await runAction(readInputFromEnv)) ? 0 : 1
  } catch (err) {
    const message =
      err instanceof InputError ? err.message : `ssh-fanout failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`
    core.setFailed(message)
  }
}
