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
