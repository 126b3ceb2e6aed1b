/**
 * Gathering of summary rows: hosts whose results look the same (status, exit code or
 * signal, output tail, error) share one row, like `clush -b` gathers identical output.
 */
import type { HostStatus } from '../../engine/model.js'

export interface Gathered<T> {
  key: string
  items: T[]
}

/** Items with equal keys in one group; groups in order of their first item, items in input order. */
export function gatherRows<T>(items: readonly T[], key: (item: T) => string): Array<Gathered<T>> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group === undefined) groups.set(k, [item])
    else group.push(item)
  }
  return [...groups].map(([k, members]) => ({ key: k, items: members }))
}

/**
 * A key equal for two results exactly when all these parts are equal: the JSON of the
 * tuple, so no separator inside a line, and no split of lines, can make two differ-
 * ent results collide (`['a,b']` vs `['a', 'b']`, null vs 'null', 0 vs '0').
 */
export function gatherKey(status: HostStatus, exitCode: number | null, signal: string | null, tailLines: readonly string[], error: string | null): string {
  return JSON.stringify([status, exitCode, signal, tailLines, error])
}
