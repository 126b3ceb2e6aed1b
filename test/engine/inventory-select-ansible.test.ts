/**
 * The semantics checked against real ansible-core over a corpus of inventory files: host order
 * and selection (`ansible PATTERN --list-hosts`), merged vars (`ansible-inventory --list`),
 * group_names, depth and priority. The model comes from ansible-core's own parse of each file
 * (so these test the semantics alone), then from our parser (parse.ts).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { batchByGroup } from '../../src/engine/inventory/batch.js'
import { walkGroups } from '../../src/engine/inventory/order.js'
import { parseInventory } from '../../src/engine/inventory/parse.js'
import { evaluatePattern, select } from '../../src/engine/inventory/pattern.js'
import { InventoryError, type Group, type Inventory } from '../../src/engine/inventory/types.js'
import { groupDepths } from '../../src/engine/inventory/graph.js'
import { groupNames, groupPriority, hostVars } from '../../src/engine/inventory/vars.js'
import { FIXTURES } from '../helpers/ansible.js'
import { ansibleReport, ansibleReports, inventoryListCli, listHostsCli, type AnsibleReport } from '../helpers/ansible-select.js'
import { haveAnsible } from '../helpers/tools.js'
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

/** Patterns over a file's groups: each, and unions, intersections and exclusions of neighbours. */
function groupPatterns(inv: Inventory): string[] {
  const names = [...inv.groups.keys()].filter((g) => g !== 'all' && g !== 'ungrouped' && /^[\w.-]+$/.test(g)).slice(0, 6)
  return names.flatMap((g, i) => {
    const next = names[i + 1]
    const pairs = next === undefined ? [] : [`${g}:${next}`, `${next},${g}`, `${g}:&${next}`, `${g}:!${next}`, `!${g}`]
    return [g, `~${g.slice(0, 2)}`, `${g.slice(0, 2)}*`, `${g}[0]`, ...pairs]
  })
}

const UNMATCHED = /^Could not match supplied host pattern, ignoring: (.*)$/

function compare(file: { name: string }, inv: Inventory, report: AnsibleReport, hostvars: Record<string, unknown>): void {
  const fixed = orderIsFixed(inv)
  if (CORPUS.includes(file as CorpusFile)) assert.equal(fixed, file.name !== 'ambiguous-second-level', `${file.name}: is the host order fixed`)
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
  // Only a host listed under all itself and in another group comes first in the host order but
  // with that group in the batches.
  const all = inv.groups.get('all')!
  const early = all.hosts.some((h) => [...inv.groups.values()].some((g) => g.name !== 'all' && g.name !== 'ungrouped' && g.hosts.includes(h)))
  if (pattern === 'all' && !early)
    assert.deepEqual(
      batches.flatMap((b) => b.hosts),
      selected,
      'for all, the batches end to end are the host order',
    )
}

describe('inventory semantics (order, selection, vars) against ansible-core', { skip: noAnsible }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'inventory-select-'))
  const reports = new Map<string, { report: AnsibleReport; hostvars: Record<string, unknown>; path: string }>()
  // The parser's corpus too (test/fixtures/inventory), with the common patterns and some over its groups.
  const fixtures = readdirSync(FIXTURES)
    .filter((f) => /\.(ini|yml)$/.test(f) && !f.startsWith('error-'))
    .map((f) => ({ name: f, path: join(FIXTURES, f), text: readFileSync(join(FIXTURES, f), 'utf8') }))
  before(async () => {
    const jobs = [
      ...CORPUS.map((file) => {
        const path = join(dir, `${file.name}.${file.ext}`)
        writeFileSync(path, file.text)
        return { name: file.name, path, patterns: file.patterns }
      }),
      ...fixtures.map((f) => ({ name: f.name, path: f.path, patterns: [...COMMON, ...groupPatterns(parseInventory(f.text, f.name))] })),
    ]
    // One Python process for every model, selection and hostvars; ansible-inventory itself (about
    // 0.4 s of CPU each) for our corpus, two at a time, and it must agree with the in-process hostvars.
    const all = ansibleReports(jobs.map((j): [string, string[]] => [j.path, j.patterns]))
    const cli = new Map<string, Record<string, unknown>>()
    for (let i = 0; i < CORPUS.length; i += 2) {
      await Promise.all(jobs.slice(i, Math.min(i + 2, CORPUS.length)).map(async (j) => cli.set(j.name, await inventoryListCli(j.path))))
    }
    ;(await all).forEach((report, i) => reports.set(jobs[i].name, { report, hostvars: cli.get(jobs[i].name) ?? report.hostvars, path: jobs[i].path }))
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

  it('the bridge has the hostvars `ansible-inventory -i FILE --list` prints', () => {
    for (const file of CORPUS) {
      const { report, hostvars } = reports.get(file.name)!
      const nonEmpty = Object.fromEntries(Object.entries(report.hostvars).filter(([, v]) => Object.keys(v).length > 0))
      assert.deepEqual(nonEmpty, hostvars, file.name)
    }
  })

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
    const extra = await ansibleReport(path, ['localhost'])
    assert.deepEqual((extra.select.localhost as { hosts: string[] }).hosts, ['localhost'])
    assert.throws(() => select(modelFromAnsible(report.model), 'localhost'), /implicit localhost/)
  })

  it("the same on our parser's model", () => {
    for (const file of CORPUS) {
      const { report, hostvars } = reports.get(file.name)!
      compare(file, parseInventory(file.text, `${file.name}.${file.ext}`), report, hostvars)
    }
  })

  for (const f of fixtures) {
    it(`${f.name} (the parser's corpus): the same on ansible-core's model and on ours`, () => {
      const { report, hostvars } = reports.get(f.name)!
      compare(f, modelFromAnsible(report.model), report, hostvars)
      compare(f, parseInventory(f.text, f.name), report, hostvars)
    })
  }
})
