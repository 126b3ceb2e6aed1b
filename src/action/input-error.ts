/** The error every bad input ends in, and how inputs are read. */

/** A user mistake in an input. Its message names the input and says what is accepted; no stack trace is shown. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input "${input}": ${message}`)
    this.name = 'InputError'
  }
}

/** Reads one input's raw value (the runner passes `INPUT_<NAME>`). */
export type InputReader = (name: string) => string
