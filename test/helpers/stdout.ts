/** What code writes to process.stdout, kept from the test runner's own stdout. */

/** Replaces process.stdout.write until `restore()`; `text()` is what was written meanwhile. */
function capture(): { text(): string; restore(): void } {
  const write = process.stdout.write.bind(process.stdout)
  let text = ''
  process.stdout.write = (chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  }
  return { text: () => text, restore: () => void (process.stdout.write = write) }
}

/** What `fn` writes to stdout, synchronously. */
export function stdoutOf(fn: () => void): string {
  const c = capture()
  try {
    fn()
  } finally {
    c.restore()
  }
  return c.text()
}

/** What `fn` writes to stdout until its promise settles, and what it resolves to. */
export async function stdoutOfAsync<T>(fn: () => Promise<T>): Promise<{ text: string; result: T }> {
  const c = capture()
  try {
    const result = await fn()
    return { text: c.text(), result }
  } finally {
    c.restore()
  }
}
