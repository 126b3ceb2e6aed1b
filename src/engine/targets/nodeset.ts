/**
 * Host-list folding in the style of ClusterShell (`nodeset -f`, `clush -b`):
 * `web01, web02, web03, db1` becomes `web[01-03],db1`. The result uses the range
 * syntax of the `hosts` input, so `expandRanges` (hosts.ts) on each comma-separated
 * item gives back exactly the labels folded, each once.
 *
 * Choices:
 * - Labels are a set: duplicates are folded once.
 * - Only the digit runs of the host part fold; a `user@` prefix and a `:port` suffix are kept as written
 *   (`web[1-2]:2222`), IPv6 addresses (bare or `[v6]:port`) are kept unfolded, and so is
 *   any label holding `[`, `]`, `,` or whitespace (no host label does). Digit runs longer
 *   than 15 digits are kept as text (beyond exact integers).
 * - Zero padding follows the range syntax: a range is written with the width of its first
 *   number, padded only when that number has a leading zero. `web09,web10` → `web[09-10]`,
 *   `web9,web10` → `web[9-10]`, and numbers of different padding that cannot share one
 *   width stay apart: `web9,web010` → `web[9,010]`, `web01,web001` → `web[01,001]`.
 * - Labels that differ in one numeric field fold on it (`rack1-node[01-04]`); sets that are
 *   full products fold on several fields (`rack[1-2]-node[01-04]`). Folding is greedy, the
 *   last field first; any result is exact, not always the shortest.
 * - Order: items appear in the order of their first label in the input; numbers inside
 *   brackets ascend.
 */

/** Longest digit run folded as a number: 15 digits stay below 2^53. */
const MAX_DIGITS = 15

/** A label as literal texts around numeric fields: `texts.length === fields.length + 1`. */
interface Shape {
  texts: string[]
  fields: string[]
}

/** Labels of one shape folded so far: one set of field texts per field, sorted; the product is the labels. */
interface Fold {
  sets: string[][]
  /** Input position of the first label in this fold, for output order. */
  first: number
}

/** The labels as a compact comma-separated list; '' for none. */
export function foldHosts(labels: readonly string[]): string {
  const items: Array<{ text: string; first: number }> = []
  const byTemplate = new Map<string, { texts: string[]; folds: Fold[] }>()
  for (const [first, label] of [...new Set(labels)].entries()) {
    const shape = shapeOf(label)
    if (shape === null) {
      items.push({ text: label, first })
      continue
    }
    const key = JSON.stringify(shape.texts)
    const template = byTemplate.get(key) ?? { texts: shape.texts, folds: [] }
    byTemplate.set(key, template)
    template.folds.push({ sets: shape.fields.map((f) => [f]), first })
  }
  for (const { texts, folds } of byTemplate.values()) {
    for (const fold of foldAll(folds, texts.length - 1)) items.push({ text: render(texts, fold.sets), first: fold.first })
  }
  return items
    .sort((a, b) => a.first - b.first)
    .map((item) => item.text)
    .join(',')
}

/** The label cut into texts and numeric fields, or null when it is kept as written. */
function shapeOf(label: string): Shape | null {
  // A `user@` before the host (several users on one host) is kept as written: ranges are for host names only.
  const match = /^((?:[^\s,[\]]*@)?)([^\s,[\]:@]+)(:\d+)?$/.exec(label)
  if (match === null) return null
  const [, user, host, port = ''] = match
  const texts = [user]
  const fields: string[] = []
  host.split(/(\d+)/).forEach((part, i) => {
    if (i % 2 === 1 && part.length <= MAX_DIGITS) {
      fields.push(part)
      texts.push('')
    } else {
      texts[texts.length - 1] += part
    }
  })
  texts[texts.length - 1] += port
  return { texts, fields }
}

/** Merges folds that agree on every field but one, field by field from the last, until nothing merges. */
function foldAll(folds: Fold[], dims: number): Fold[] {
  let current = folds
  for (let changed = dims > 0; changed;) {
    changed = false
    for (let d = dims - 1; d >= 0; d--) {
      const merged = mergeAlong(current, d)
      if (merged.length < current.length) changed = true
      current = merged
    }
  }
  return current
}

/** Folds whose sets are equal except in field `d` become one fold with the union in `d` (the parts are disjoint). */
function mergeAlong(folds: Fold[], d: number): Fold[] {
  const groups = new Map<string, { base: Fold; parts: string[][] }>()
  for (const fold of folds) {
    const key = fold.sets.map((set, i) => (i === d ? '*' : set.join(','))).join('/')
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { base: fold, parts: [fold.sets[d]] })
    else {
      group.parts.push(fold.sets[d])
      group.base = { sets: group.base.sets, first: Math.min(group.base.first, fold.first) }
    }
  }
  return [...groups.values()].map(({ base, parts }) => {
    if (parts.length === 1) return base
    const sets = [...base.sets]
    sets[d] = sortFields(parts.flat())
    return { sets, first: base.first }
  })
}

function render(texts: string[], sets: string[][]): string {
  return sets.reduce((out, set, i) => out + (set.length === 1 ? set[0] : `[${rangeList(set)}]`) + texts[i + 1], texts[0])
}

/** By value, then shorter (less padded) first. */
function sortFields(fields: string[]): string[] {
  return fields.sort((a, b) => Number(a) - Number(b) || a.length - b.length)
}

/**
 * `01,02,03,07,9` → `01-03,07,9`. Each range starts at its smallest unused number and runs
 * on while the next value, written with the range's width, is in the set.
 */
function rangeList(sorted: string[]): string {
  const left = new Set(sorted)
  const items: string[] = []
  for (const start of sorted) {
    if (!left.delete(start)) continue
    const width = padWidth(start)
    let end = Number(start)
    while (left.delete(pad(end + 1, width))) end++
    items.push(end === Number(start) ? start : `${start}-${pad(end, width)}`)
  }
  return items.join(',')
}

/** The width `expandRanges` gives a range starting with this text: its length when it has a leading zero, else 1. */
function padWidth(text: string): number {
  return text.length > 1 && text.startsWith('0') ? text.length : 1
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}
