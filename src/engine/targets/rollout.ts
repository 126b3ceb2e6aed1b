/**
 * Rollout shape: the `batch-size` input (rolling batches) and the `shard` input
 * (one deterministic slice of the host list per job). Parsers throw a plain `Error`
 * saying what is wrong and what is accepted; the caller prefixes the input name.
 */

const BATCH_FORMS =
  'use a number of hosts (5), a percentage of the hosts (25%, 12.5%; rounded up, at least 1 host), ' +
  'or a comma list that sizes the first, second, … batch, its last item repeating (1, 10%, 50%)'
const SHARD_FORM = 'write i/n with whole numbers 1 ≤ i ≤ n, e.g. 2/4 for the second of 4 slices of the hosts'

/** Most shards: GitHub runs at most 256 jobs per matrix. */
export const MAX_SHARDS = 256

export type BatchItem =
  /** A number of hosts, a whole number ≥ 1. */
  | { kind: 'count'; value: number }
  /**
   * A percentage of the hosts being run, 0 < value ≤ 100. `exact` is the number as
   * written (`12.5`), so batch sizes are computed on its decimal digits, not on a float.
   */
  | { kind: 'percent'; value: number; exact: string }

/** Batch sizes in order: item k sizes batch k; the last item repeats for every later batch. */
export interface BatchSpec {
  items: BatchItem[]
}

/** One of `count` disjoint slices of the host list; `index` is 1-based. */
export interface Shard {
  index: number
  count: number
}

// ---- batch-size ---------------------------------------------------------------

/** `5`, `25%`, `12.5%` or a ramp `1, 10%, 50%`; null for empty text (one pool of all hosts). */
export function parseBatchSize(text: string): BatchSpec | null {
  const trimmed = text.trim()
  if (trimmed === '') return null
  const parts = trimmed.split(',').map((part) => part.trim())
  if (parts.includes('')) throw new Error(`"${trimmed}" has an empty item between commas; ${BATCH_FORMS}`)
  const items = parts.map((part, i) => {
    try {
      return parseBatchItem(part)
    } catch (err) {
      const where = parts.length === 1 ? '' : ` (item ${i + 1} of "${trimmed}")`
      throw new Error(`"${part}"${where} ${(err as Error).message}; ${BATCH_FORMS}`, { cause: err })
    }
  })
  return { items }
}

/** Throws with the problem only ("is …"); parseBatchSize adds where and what is accepted. */
function parseBatchItem(text: string): BatchItem {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text)
  if (percent !== null) return parsePercent(percent[1])
  if (/^\d+$/.test(text)) {
    const value = Number(text)
    if (value < 1) throw new Error('is not a batch size: a batch needs at least 1 host')
    if (!Number.isSafeInteger(value)) throw new Error('is too large a number of hosts')
    return { kind: 'count', value }
  }
  if (/^\d+\.\d+$/.test(text)) throw new Error('is not a whole number of hosts')
  if (/\s/.test(text)) throw new Error('is not one batch size (separate the items of a ramp with commas)')
  throw new Error('is not a number of hosts or a percentage')
}

function parsePercent(exact: string): BatchItem {
  const [digits, scale] = decimalDigits(exact)
  if (digits === 0n) throw new Error('is not a batch size: a percentage must be more than 0%')
  if (digits > 100n * 10n ** scale) throw new Error('is more than 100%')
  return { kind: 'percent', value: Number(exact), exact }
}

/** `12.5` as [125n, 1n]: the number is digits / 10^scale. */
function decimalDigits(text: string): [bigint, bigint] {
  const [int, frac = ''] = text.split('.')
  return [BigInt(int + frac), BigInt(frac.length)]
}

/**
 * Batch sizes for `total` hosts: they sum to `total`, each is ≥ 1, and only the last
 * may be smaller than its item asks. `[total]` for null (one pool), `[]` for 0 hosts.
 * A percentage is of `total` (the hosts being run, after sharding), rounded up exactly:
 * ceil(p × total / 100) on the decimal digits, so 10% of 30 is 3.
 */
export function planBatches(spec: BatchSpec | null, total: number): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new Error(`planBatches: total must be a whole number ≥ 0, got ${total}`)
  if (total === 0) return []
  if (spec === null) return [total]
  const sizes = spec.items.map((item) => batchSize(item, total))
  const batches: number[] = []
  for (let left = total; left > 0;) {
    const size = Math.min(sizes[Math.min(batches.length, sizes.length - 1)], left)
    batches.push(size)
    left -= size
  }
  return batches
}

/** Hosts in a batch sized by `item` when `total` hosts are run (≥ 1; may exceed total). */
export function batchSize(item: BatchItem, total: number): number {
  if (item.kind === 'count') return item.value
  const [digits, scale] = decimalDigits(item.exact)
  const denominator = 100n * 10n ** scale
  const rounded = (digits * BigInt(total) + denominator - 1n) / denominator
  return Math.max(1, Number(rounded))
}

// ---- shard --------------------------------------------------------------------

/** `i/n` with 1 ≤ i ≤ n ≤ MAX_SHARDS; spaces around `/` are allowed (`2 / 4`). Null for empty text (no sharding). */
export function parseShard(text: string): Shard | null {
  const trimmed = text.trim()
  if (trimmed === '') return null
  const match = /^(\d+)\s*\/\s*(\d+)$/.exec(trimmed)
  if (match === null) throw new Error(`"${trimmed}" is not a shard; ${SHARD_FORM}`)
  const index = Number(match[1])
  const count = Number(match[2])
  if (count < 1) throw new Error(`"${trimmed}" asks for 0 shards; the number after '/' must be at least 1; ${SHARD_FORM}`)
  if (count > MAX_SHARDS) {
    throw new Error(`"${trimmed}" asks for more than ${MAX_SHARDS} shards (GitHub runs at most ${MAX_SHARDS} jobs per matrix); ${SHARD_FORM}`)
  }
  if (index < 1 || index > count) {
    throw new Error(`"${trimmed}": there is no shard ${index} of ${count}, they are numbered 1 to ${count}; ${SHARD_FORM}`)
  }
  return { index, count }
}

/** Indices [start, end) of the shard's slice of `total` items: [floor((i-1)·N/n), floor(i·N/n)). Empty when n > N leaves it none. */
export function shardBounds(shard: Shard, total: number): { start: number; end: number } {
  return { start: Math.floor(((shard.index - 1) * total) / shard.count), end: Math.floor((shard.index * total) / shard.count) }
}

/**
 * The shard's contiguous slice of `items` (a copy; all of them for null). Shards of one
 * list are disjoint, cover it in order, and differ in size by at most one; a shard may be
 * empty when there are more shards than items.
 */
export function shardSlice<T>(items: readonly T[], shard: Shard | null): T[] {
  if (shard === null) return [...items]
  const { start, end } = shardBounds(shard, items.length)
  return items.slice(start, end)
}

/** For the log: `shard 2/4: hosts 11-20 of 40`, `shard 3/4: host 3 of 4`, or `shard 6/8: no hosts (8 shards over 5 hosts)`. */
export function describeShard(shard: Shard, total: number): string {
  const name = `shard ${shard.index}/${shard.count}`
  const { start, end } = shardBounds(shard, total)
  if (end === start) return `${name}: no hosts (${shard.count} shards over ${total} ${total === 1 ? 'host' : 'hosts'})`
  if (end - start === 1) return `${name}: host ${end} of ${total}`
  return `${name}: hosts ${start + 1}-${end} of ${total}`
}
