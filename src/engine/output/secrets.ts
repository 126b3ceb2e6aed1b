/**
 * Secret values (password, passphrase, private key lines) in text we keep or cut. The runner
 * masks whole secrets in what it shows, but not a part of one: wherever we cut text, a secret
 * must be masked first, or the cut must not split one.
 */

/** What the runner shows for a secret. */
export const MASK = '***'

/** Every occurrence of a secret replaced by `***`, longest secrets first. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 0 && text.includes(secret)) text = text.split(secret).join(MASK)
  }
  return text
}

/**
 * Bytes at the end of `head` that could be the start of a secret cut off right after them:
 * the length of the longest proper prefix of any secret that `head` ends with (0 if none).
 */
export function secretStartAtEnd(head: Buffer, secrets: readonly Buffer[]): number {
  let longest = 0
  for (const secret of secrets) {
    for (let n = Math.min(secret.length - 1, head.length); n > longest; n--) {
      if (head.subarray(head.length - n).equals(secret.subarray(0, n))) {
        longest = n
        break
      }
    }
  }
  return longest
}

/**
 * Bytes at the start of `tail` that could be the end of a secret cut off right before them:
 * the length of the longest proper suffix of any secret that `tail` starts with (0 if none).
 */
export function secretEndAtStart(tail: Buffer, secrets: readonly Buffer[]): number {
  let longest = 0
  for (const secret of secrets) {
    for (let n = Math.min(secret.length - 1, tail.length); n > longest; n--) {
      if (tail.subarray(0, n).equals(secret.subarray(secret.length - n))) {
        longest = n
        break
      }
    }
  }
  return longest
}

/**
 * Masks secrets in a byte stream cut into arbitrary chunks (a secret may span two of them):
 * `push` returns what can be written so far, `end` the rest.
 */
export class StreamMasker {
  private readonly secrets: Buffer[]
  private readonly keep: number
  private carry = Buffer.alloc(0)
  private readonly mask = Buffer.from(MASK)

  constructor(secrets: readonly string[]) {
    this.secrets = secrets
      .filter((s) => s.length > 0)
      .map((s) => Buffer.from(s))
      .sort((a, b) => b.length - a.length)
    this.keep = Math.max(0, ...this.secrets.map((s) => s.length - 1))
  }

  push(chunk: Buffer): Buffer {
    if (this.secrets.length === 0) return chunk
    return this.process(Buffer.concat([this.carry, chunk]), false)
  }

  end(): Buffer {
    return this.process(this.carry, true)
  }

  /** Masks every secret that starts before the last `keep` bytes (those could start one the next chunk completes). */
  private process(buf: Buffer, final: boolean): Buffer {
    const limit = final ? buf.length : Math.max(0, buf.length - this.keep)
    const out: Buffer[] = []
    let i = 0
    for (;;) {
      let at = -1
      let len = 0
      for (const s of this.secrets) {
        const found = buf.indexOf(s, i)
        if (found !== -1 && (at === -1 || found < at)) [at, len] = [found, s.length]
      }
      if (at === -1 || at >= limit) break
      out.push(buf.subarray(i, at), this.mask)
      i = at + len
    }
    const end = Math.max(i, limit)
    out.push(buf.subarray(i, end))
    this.carry = Buffer.from(buf.subarray(end))
    return Buffer.concat(out)
  }
}
