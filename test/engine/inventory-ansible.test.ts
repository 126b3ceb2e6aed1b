/**
 * The semantics checked against real ansible-core over a corpus of inventory files: host order
 * and selection (`ansible PATTERN --list-hosts`), merged vars (`ansible-inventory --list`),
 * group_names, depth and priority. The model comes from ansible-core's own parse of each file
 * (so these test the semantics alone) and, once src/engine/inventory/parse.ts exists, from our
 * parser too.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { batchByGroup } from '../../src/engine/inventory/batch.js'
import { walkGroups } from '../../src/engine/inventory/order.js'
import { evaluatePattern, select } from '../../src/engine/inventory/pattern.js'
import { InventoryError, type Group, type Inventory } from '../../src/engine/inventory/types.js'
import { groupDepths, groupNames, groupPriority, hostVars } from '../../src/engine/inventory/vars.js'
import { ansibleReport, haveAnsible, inventoryListCli, listHostsCli, type AnsibleReport } from '../helpers/ansible.js'
import { COMMON, CORPUS, type CorpusFile } from '../helpers/inventory-corpus.js'
import { modelFromAnsible } from '../helpers/inventory.js'

const noAnsible = !haveAnsible() && 'ansible-core not installed'

/** Every host order ansible-core can give for a group: each level's groups in every order (its Python set). */
function possibleOrders(inv: Inventory, name: string): Set<string> {
  const orders = new Set<string>()
  const start = inv.groups.get(name)!
  const hostsOf = (groups: Group[]) => [...new Set(groups.flatMap((g) => g.hosts))].join(' ')
  const permutations = <T>(xs: T[]): T[][] =>
    xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]))
  const level = (ordered: Group[], seen: Set<string>, frontier: Group[]) => {
    // Only groups with a child not seen yet can change the order.
    const movers = frontier.filter((g) => g.children.some((c) => !seen.has(c)))
    if (movers.length === 0) return void orders.add(hostsOf(ordered))
    for (const perm of permutations(movers)) {
      const next = new Set(seen)
      const added: Group[] = []
      for (const g of perm) {
        for (const c of g.children) {
          if (next.has(c)) continue
          next.add(c)
          added.push(inv.groups.get(c)!)
        }
      }
      level([...ordered, ...added], next, added)
    }
  }
  const first = [start, ...start.children.map((c) => inv.groups.get(c)!)]
  level(first, new Set(first.map((g) => g.name)), first)
  return orders
}

/** Whether host order is fixed: every group's walk gives one possible order. */
const orderIsFixed = (inv: Inventory): boolean => [...inv.groups.keys()].every((g) => possibleOrders(inv, g).size === 1)

const UNMATCHED = /^Could not match supplied host pattern, ignoring: (.*)$/

function compare(file: CorpusFile, inv: Inventory, report: AnsibleReport, hostvars: Record<string, unknown>): void {
  const fixed = orderIsFixed(inv)
  assert.equal(fixed, file.name !== 'ambiguous-second-level', `${file.name}: is the host order fixed`)
  const depths = groupDepths(inv)
  for (const g of report.model.groups) {
    assert.equal(depths.get(g.name), g.depth, `${file.name}: depth of ${g.name}`)
    assert.equal(groupPriority(inv.groups.get(g.name)!), g.priority, `${file.name}: priority of ${g.name}`)
  }
  for (const h of report.model.hosts) {
    assert.deepEqual(groupNames(inv, h.name), h.groupNames, `${file.name}: group_names of ${h.name}`)
    const ours = Object.fromEntries([...hostVars(inv, h.name)].map(([k, v]) => [k, v.value]))
    assert.deepEqual(ours, hostvars[h.name] ?? {}, `${file.name}: vars of ${h.name} (ansible-inventory --list)`)
  }
  for (const [pattern, want] of Object.entries(report.select)) {
    const what = `${file.name}: ${pattern}`
    if ('error' in want) {
      assert.throws(() => select(inv, pattern), InventoryError, `${what}: ansible-core says ${want.error}`)
      continue
    }
    const unmatched = want.warnings.flatMap((w) => UNMATCHED.exec(w)?.[1] ?? [])
    const ours = evaluatePattern(inv, pattern)
    assert.deepEqual(
      // Ansible names the term without its subscript.
      ours.warnings.flatMap((w) => /^host pattern term "(.*)" matches no group or host/.exec(w)?.[1]?.replace(/\[-?\d+(?:[:-]\d*)?\]$/, '') ?? []),
      unmatched,
      `${what}: terms that match nothing`,
    )
    if (want.hosts.length === 0) assert.throws(() => select(inv, pattern), /selects no host/, what)
    else if (fixed) assert.deepEqual(ours.hosts, want.hosts, what)
    else if (/\]$/.test(pattern)) assert.equal(ours.hosts.length, want.hosts.length, `${what} (a subscript over an order that varies)`)
    else assert.deepEqual([...ours.hosts].sort(), [...want.hosts].sort(), `${what} (as a set: the order is Python's set order)`)
    if (ours.hosts.length > 0) checkBatches(inv, pattern, ours.hosts)
  }
  if (!fixed) {
    const possible = possibleOrders(inv, 'all')
    assert.ok(possible.has((report.select.all as { hosts: string[] }).hosts.join(' ')), `${file.name}: ansible's order is one of ${[...possible].join(' | ')}`)
    assert.ok(possible.has(select(inv, 'all').hosts.join(' ')), `${file.name}: ours too`)
  }
}

/** batch-by: group over any selection: every selected host once, each batch's hosts listed directly in its group. */
function checkBatches(inv: Inventory, pattern: string, selected: string[]): void {
  const batches = batchByGroup(inv, pattern, selected)
  assert.deepEqual(batches.flatMap((b) => b.hosts).sort(), [...selected].sort(), `${pattern}: batches hold the selection`)
  assert.equal(new Set(batches.map((b) => b.group)).size, batches.length, `${pattern}: one batch per group`)
  for (const b of batches) {
    assert.notEqual(b.group, 'all')
    for (const h of b.hosts) assert.ok(inv.groups.get(b.group)!.hosts.includes(h), `${pattern}: ${h} is listed in ${b.group}`)
  }
  if (pattern === 'all')
    assert.deepEqual(
      batches.flatMap((b) => b.hosts),
      selected,
      'for all, the batches end to end are the host order',
    )
}

describe('inventory semantics against ansible-core', { skip: noAnsible }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'inventory-select-'))
  const reports = new Map<string, { report: AnsibleReport; hostvars: Record<string, unknown>; path: string }>()
  before(async () => {
    await Promise.all(
      CORPUS.map(async (file) => {
        const path = join(dir, `${file.name}.${file.ext}`)
        writeFileSync(path, file.text)
        const [report, hostvars] = await Promise.all([ansibleReport(path, file.patterns), inventoryListCli(path)])
        reports.set(file.name, { report, hostvars, path })
      }),
    )
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  for (const file of CORPUS) {
    it(`${file.name}: order, selection, vars and group_names on ansible-core's own model`, () => {
      const { report, hostvars } = reports.get(file.name)!
      const inv = modelFromAnsible(report.model)
      assert.deepEqual(
        walkGroups(inv, 'all')
          .map((g) => g.name)
          .sort(),
        [...inv.groups.keys()].sort(),
        'every group hangs under all',
      )
      compare(file, inv, report, hostvars)
    })
  }

  it('the bridge lists what `ansible PATTERN -i FILE --list-hosts` prints', async () => {
    const checks = CORPUS.filter((f) => f.name !== 'ambiguous-second-level').flatMap((f): [CorpusFile, string][] => [
      [f, 'all'],
      [f, f.patterns[COMMON.length] /* the file's first own pattern */],
    ])
    // Two at a time: each is a Python start-up of about 0.4 s.
    for (let i = 0; i < checks.length; i += 2) {
      await Promise.all(
        checks.slice(i, i + 2).map(async ([file, pattern]) => {
          const { report, path } = reports.get(file.name)!
          assert.deepEqual(await listHostsCli(path, pattern), (report.select[pattern] as { hosts: string[] }).hosts, `${file.name}: ${pattern}`)
        }),
      )
    }
  })

  it('differs on purpose for an implicit localhost: Ansible runs it locally, we select nothing', async () => {
    const { report, path } = reports.get('guide-basic')!
    const [extra] = await Promise.all([ansibleReport(path, ['localhost'])])
    assert.deepEqual((extra.select.localhost as { hosts: string[] }).hosts, ['localhost'])
    assert.throws(() => select(modelFromAnsible(report.model), 'localhost'), /implicit localhost/)
  })

  // Our parser (the inventory-parse branch) over the same files, once it is there.
  const parser = fileURLToPath(new URL('../../src/engine/inventory/parse.js', import.meta.url))
  it("the same on our parser's model", { skip: !existsSync(parser) && 'src/engine/inventory/parse.ts not merged yet' }, async () => {
    const { parseInventory } = (await import(parser)) as { parseInventory: (text: string, source: string) => Inventory }
    for (const file of CORPUS) {
      const { report, hostvars } = reports.get(file.name)!
      compare(file, parseInventory(file.text, `${file.name}.${file.ext}`), report, hostvars)
    }
  })
})
