// Formatting for messages people read: durations, host counts. A leaf: imports nothing.

/** A duration for people: `850 ms`, `12.3 s` (below a minute), `2 min`, `1 min 5 s` (whole seconds, never `60 s`). */
export function formatSeconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  const tenths = Math.round(ms / 100)
  if (tenths < 600) return `${tenths / 10} s`
  const seconds = Math.round(ms / 1000)
  const m = Math.floor(seconds / 60)
  const rest = seconds % 60
  return rest === 0 ? `${m} min` : `${m} min ${rest} s`
}

/** `1 host`, `5 hosts`; with a word between: `1 more host`, `3 more hosts`. */
export function countHosts(n: number, word?: string): string {
  return `${n} ${word ? `${word} ` : ''}${n === 1 ? 'host' : 'hosts'}`
}
