import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { MAX_HOSTS } from '../../src/engine/targets/hosts.js'
import type { HostCheck, HostResult, HostRollback, HostStatus } from '../../src/engine/model.js'
import { buildOutputs, DROP_ORDER, LIST_PRIORITY, OUTPUTS_BUDGET, resultEntry, resultsJson, setOutputs } from '../../src/action/results/outputs.js'
import { buildSummary } from '../../src/action/results/summary.js'
import { parseOutputFile, ROOT } from '../helpers/action.js'
import { hostResult, target } from '../helpers/results.js'

const ONE_MB = 1_000_000

const longTail = (what: string) => Array.from({ length: 20 }, (_, i) => `${what} line ${i} `.padEnd(120, 'x'))

/** A health check that failed every attempt and the soak check: every field of `check` at its widest. */
const CHECK: HostCheck = { attempts: 12, planned: 12, exitCode: 127, durationMs: 55_012, soak: 'failed', log: [] }

/** A rollback with 20 long lines, and for a lost connection its error line too. */
function rollback(status: HostRollback['status']): HostRollback {
  const error = status === 'error' ? 'connection lost: the host closed the connection (ECONNRESET) during the rollback' : null
  return { status, exitCode: status === 'success' ? 0 : null, durationMs: 12_345, tail: longTail('rollback'), error }
}

/**
 * A result as a big fleet has them: connect timeouts after 3 attempts, or 20 long output lines.
 * Every field of a safe rollout is filled too (preflight, a failed check, a rollback: the lost
 * connection's for errors, a successful one else), so the budget is proven with them present.
 */
function host(name: string, port: number, status: HostStatus, over: Partial<HostResult> = {}): HostResult {
  const failedToConnect = status === 'error'
  return hostResult(target(name, port), status, {
    error: failedToConnect ? 'connect timeout: no session within 30 s (stalled during SSH handshake)' : null,
    errorKind: failedToConnect ? 'connect timeout' : null,
    exitCode: status === 'success' ? 0 : status === 'failed' ? 1 : null,
    durationMs: 30_012,
    tail: failedToConnect ? [] : longTail('command'),
    attempts: failedToConnect ? 3 : 1,
    preflight: 'failed',
    changed: true,
    check: CHECK,
    rollback: rollback(failedToConnect ? 'error' : 'success'),
    ...over,
  })
}

/** `n` hosts named like `app-00042.eu-west-1.compute.internal.example.co` (47 characters). */
function fleet47(n: number, status: HostStatus = 'error'): HostResult[] {
  return Array.from({ length: n }, (_, i) => host(`app-${String(i).padStart(5, '0')}.eu-west-1.compute.internal.example.co`, 22, status))
}

describe('results output within GitHub limit', () => {
  it('5000 hosts with 47-character names whose errors are cut to their class still fit in 1 MB, every host kept', () => {
    const results = fleet47(MAX_HOSTS)
    assert.equal(results[0].target.host.length, 47)
    const r = resultsJson(results)
    assert.ok(r.json.length <= OUTPUTS_BUDGET, `results is ${r.json.length} UTF-16 code units`)
    const entries = JSON.parse(r.json) as Array<Record<string, unknown>>
    assert.deepEqual(
      entries.map((e) => e.host),
      results.map((x) => x.target.host),
    )
    assert.ok(entries.every((e) => e.status === 'error'))
    assert.equal(r.hostsLeftOut, 0)
    // Fields go in the stated order, and only as many as needed.
    assert.deepEqual(r.droppedFields, DROP_ORDER.slice(0, r.droppedFields.length))
    assert.ok(r.droppedFields.length > 0)
    for (const f of r.droppedFields) assert.ok(!(f in entries[0]), f)
  })

  it('drops fields in DROP_ORDER, each only when the ones before it were not enough', () => {
    assert.deepEqual(DROP_ORDER, [
      'output',
      'error',
      'check',
      'groups',
      'signal',
      'attempts',
      'batch',
      'durationMs',
      'preflight',
      'rollback',
      'address',
      'username',
      'port',
      'exitCode',
    ])
    // Every field set, so that each drop makes the entries smaller.
    const results = fleet47(40).map((r) => ({ ...r, exitCode: 255, signal: 'SIGKILL', batch: 3 }))
    // The entries as they are once output lines are gone and errors are cut to their class.
    const base = results.map((r) => ({ ...resultEntry(r, 0), error: r.errorKind }))
    for (let k = 1; k <= DROP_ORDER.length; k++) {
      const gone: ReadonlySet<string> = new Set<string>(DROP_ORDER.slice(0, k))
      const json: string = JSON.stringify(base.map((e) => Object.fromEntries(Object.entries(e).filter(([f]) => !gone.has(f)))))
      // Exactly the size of the entries without the first k fields: those k go, no more, no fewer.
      const r = resultsJson(results, [], json.length)
      assert.deepEqual(r.droppedFields, DROP_ORDER.slice(0, k), `budget for ${k} dropped`)
      assert.equal(r.json, json)
      assert.equal(r.hostsLeftOut, 0)
    }
  })

  it('every output stays under the limit whatever the names, and says what it left out (property, 5000 hosts)', () => {
    const statuses: HostStatus[] = ['success', 'failed', 'unhealthy', 'error', 'timeout', 'skipped', 'cancelled']
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 253 }), fc.integer({ min: 0, max: 253 }), fc.nat(), (minLen, spread, seed) => {
        const results = Array.from({ length: MAX_HOSTS }, (_, i) => {
          const len = Math.min(253, minLen + ((i * 7919 + seed) % (spread + 1)))
          const name = `${i}.`.padEnd(len, 'n')
          const rolledBack = (i + seed) % 5 !== 0
          return host(name, i % 3 === 0 ? 22 : 2222, statuses[(i + seed) % statuses.length], {
            changed: (i + seed) % 4 !== 0,
            rollback: rollback(rolledBack ? 'success' : 'failed'),
          })
        })
        const { values, trim, fullJson } = buildOutputs(results)
        // GitHub counts a job's outputs together, as UTF-16: 2 bytes per code unit.
        const units = Object.values(values).reduce((n, value) => n + value.length, 0)
        assert.ok(units <= OUTPUTS_BUDGET && units * 2 < ONE_MB, `all outputs: ${units} UTF-16 code units`)
        const entries = JSON.parse(values.results) as Array<{ host: string; status: string }>
        assert.equal(entries.length + trim.hostsLeftOut, MAX_HOSTS)
        entries.forEach((e, i) => {
          assert.equal(e.host, results[i].target.host)
          assert.equal(e.status, results[i].status)
        })
        assertLists(results, values, trim.listsCut)
        assert.equal((JSON.parse(fullJson) as unknown[]).length, MAX_HOSTS)
      }),
      { numRuns: 12 },
    )
  })

  it('with names too long for even host and status, keeps the first hosts, cuts the lists, and the summary says so', () => {
    const results = Array.from({ length: MAX_HOSTS }, (_, i) => host(`${i}.`.padEnd(253, 'n'), 22, 'success'))
    const { values, trim } = buildOutputs(results)
    assert.ok(trim.hostsLeftOut > 0)
    assert.deepEqual(trim.listsCut, ['succeeded', 'changed', 'rolled-back'])
    assert.deepEqual(trim.droppedFields, [...DROP_ORDER])
    const run = { results, failures: 0, thresholdExceeded: false, stoppedEarly: false, cancelled: false, preflight: null, rollback: null }
    const html = buildSummary(run, { failed: false, message: 'ok' }, { ...trim, resultsFile: '/tmp/r.json', hostKeysShown: false })
    assert.ok(html.includes(`leaves out the last ${trim.hostsLeftOut} hosts`), html.slice(-2000))
    assert.ok(html.includes('<code>succeeded</code>, <code>changed</code> and <code>rolled-back</code> output lists are incomplete'), html.slice(-2000))
    assert.ok(html.includes('<code>/tmp/r.json</code> (the <code>results-file</code> output)'), html.slice(-2000))
    assert.ok(values.results.length > 0)
  })
})

describe('setOutputs and results-file', () => {
  let dir: string
  const saved: Record<string, string | undefined> = {}
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-outputs-'))
    for (const k of ['GITHUB_OUTPUT', 'RUNNER_TEMP']) saved[k] = process.env[k]
    process.env.RUNNER_TEMP = dir
  })
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const outputs = (file: string) => parseOutputFile(readFileSync(file, 'utf8'))

  it('writes no file when everything fits, and results-file is empty', () => {
    const file = join(dir, 'out-small')
    writeFileSync(file, '')
    process.env.GITHUB_OUTPUT = file
    const trim = setOutputs(fleet47(3, 'success'))
    assert.equal(trim.resultsFile, null)
    assert.equal(outputs(file)['results-file'], '')
  })

  it('writes every host full entry under RUNNER_TEMP and names it in results-file when results is trimmed', () => {
    const file = join(dir, 'out-big')
    writeFileSync(file, '')
    process.env.GITHUB_OUTPUT = file
    const results = fleet47(MAX_HOSTS)
    const trim = setOutputs(results)
    const out = outputs(file)
    assert.ok(trim.resultsFile?.startsWith(dir), String(trim.resultsFile))
    assert.equal(out['results-file'], trim.resultsFile)
    const full = JSON.parse(readFileSync(trim.resultsFile!, 'utf8')) as Array<{ host: string; error: string; attempts: number }>
    assert.equal(full.length, MAX_HOSTS)
    assert.equal(full[4999].error, results[4999].error)
    assert.equal(full[4999].attempts, 3)
    const units = Object.values(out).reduce((n, value) => n + value.length, 0)
    assert.ok(units <= OUTPUTS_BUDGET, `all outputs: ${units} UTF-16 code units`)
  })
})

describe('one budget for all outputs, counted in UTF-16 code units as GitHub counts a job outputs', () => {
  const total = (values: Record<string, string>) => Object.values(values).reduce((n, value) => n + value.length, 0)
  const tailOf = (text: string, n = 20) => Array.from({ length: n }, (_, i) => `${i} ${text}`)

  it('ASCII results under the old 900,000-byte cap of one output are trimmed when all outputs pass the budget', () => {
    // 40 hosts × 20 lines of 800 characters: about 650,000 characters, 1.3 MB in UTF-16.
    const results = Array.from({ length: 40 }, (_, i) => host(`web${i}.example.com`, 22, 'success', { tail: tailOf('x'.repeat(800)) }))
    const { values, trim } = buildOutputs(results, [], '/home/runner/work/_temp/ssh-fanout-results-0123456789ab.json')
    assert.ok(total(values) <= OUTPUTS_BUDGET, `all outputs: ${total(values)} UTF-16 code units`)
    assert.ok(trim.tailLines < 20 && trim.tailLines > 0, String(trim.tailLines))
    assert.deepEqual(trim.listsCut, [])
    assert.equal(values.succeeded.split('\n').length, 40)
  })

  it('counts a character as UTF-16 does: 日 is one code unit (three UTF-8 bytes), an emoji two', () => {
    // 25 hosts × 20 lines of 800 × 日: about 405,000 code units, 1.2 MB in UTF-8: fits whole (without a rollback's lines).
    const cjk = Array.from({ length: 25 }, (_, i) => host(`web${i}`, 22, 'success', { tail: tailOf('日'.repeat(800)), rollback: null }))
    const kept = buildOutputs(cjk)
    assert.ok(Buffer.byteLength(kept.values.results) > 1_000_000)
    assert.equal(kept.trim.tailLines, 20)
    assert.ok(total(kept.values) <= OUTPUTS_BUDGET)
    // The same count of emoji is twice as many code units: trimmed.
    const emoji = Array.from({ length: 25 }, (_, i) => host(`web${i}`, 22, 'success', { tail: tailOf('😀'.repeat(800)), rollback: null }))
    const cut = buildOutputs(emoji)
    assert.ok(cut.trim.tailLines < 20, String(cut.trim.tailLines))
    assert.ok(total(cut.values) <= OUTPUTS_BUDGET, `all outputs: ${total(cut.values)} UTF-16 code units`)
  })

  it('results comes first: the lists are cut (failed first) only when host and status of every host do not fit beside them', () => {
    // 5000 hosts with 40-character names, every other one failed: host and status alone are about 370,000 code units.
    const results = Array.from({ length: MAX_HOSTS }, (_, i) => host(`${i}.`.padEnd(40, 'n'), 22, i % 2 === 0 ? 'failed' : 'success'))
    const path = '/home/runner/work/_temp/ssh-fanout-results-0123456789ab.json'
    const { values, trim } = buildOutputs(results, [], path)
    assert.equal(trim.hostsLeftOut, 0)
    assert.deepEqual(trim.droppedFields, [...DROP_ORDER])
    assert.equal((JSON.parse(values.results) as unknown[]).length, MAX_HOSTS)
    const failed = values.failed.split('\n')
    assert.ok(failed.length > 0 && failed.length < MAX_HOSTS / 2, String(failed.length))
    assert.deepEqual(
      failed,
      results
        .filter((r) => r.status === 'failed')
        .slice(0, failed.length)
        .map((r) => r.target.label),
    )
    assert.equal(values.succeeded, '')
    assert.equal(values.changed, '')
    assert.equal(values['rolled-back'], '')
    assert.deepEqual(trim.listsCut, ['succeeded', 'failed', 'changed', 'rolled-back'])
    // Everything, the results-file path included, within the budget; the counts stay exact.
    assert.ok(total(values) + path.length <= OUTPUTS_BUDGET, `all outputs: ${total(values) + path.length} UTF-16 code units`)
    assert.ok(OUTPUTS_BUDGET - (total(values) + path.length) < 50, 'the lists take what is left')
    assert.equal(values['failed-count'], String(MAX_HOSTS / 2))
    assert.equal(values['changed-count'], String(MAX_HOSTS))
    assert.equal(values['rolled-back-count'], String(MAX_HOSTS))
  })

  it('whatever the names, all outputs fit with every host changed and rolled back (5000 hosts of 253 characters)', () => {
    const results = Array.from({ length: MAX_HOSTS }, (_, i) => host(`${i}.`.padEnd(253, 'n'), 2222, i % 2 === 0 ? 'unhealthy' : 'success'))
    const path = '/home/runner/work/_temp/ssh-fanout-results-0123456789ab.json'
    const { values, trim } = buildOutputs(results, [], path)
    assert.ok(total(values) + path.length <= OUTPUTS_BUDGET, `all outputs: ${total(values) + path.length} UTF-16 code units`)
    assert.ok(trim.hostsLeftOut > 0)
    assertLists(results, values, trim.listsCut)
    assert.deepEqual(trim.listsCut, ['succeeded', 'failed', 'changed', 'rolled-back'])
    for (const l of LIST_PRIORITY) assert.equal(values[l], '', l)
    assert.equal(values['changed-count'], String(MAX_HOSTS))
    assert.equal(values['rolled-back-count'], String(MAX_HOSTS))
    assert.equal(values['failed-count'], String(MAX_HOSTS / 2))
  })

  it('changed keeps its names before rolled-back and succeeded, and the lists get every unit results leaves', () => {
    // Every host succeeded, changed and was rolled back: the three lists name the same hosts.
    const results = Array.from({ length: MAX_HOSTS }, (_, i) => host(`${i}.`.padEnd(40, 'n'), 22, 'success'))
    const path = '/home/runner/work/_temp/ssh-fanout-results-0123456789ab.json'
    const { values, trim } = buildOutputs(results, [], path)
    assert.equal(trim.hostsLeftOut, 0)
    const changed = values.changed.split('\n')
    assert.ok(changed.length > 100 && changed.length < MAX_HOSTS, String(changed.length))
    assert.equal(values['rolled-back'], '')
    assert.equal(values.succeeded, '')
    assert.deepEqual(trim.listsCut, ['succeeded', 'changed', 'rolled-back'])
    assertLists(results, values, trim.listsCut)
    assert.ok(OUTPUTS_BUDGET - (total(values) + path.length) < 50, 'the lists take what is left')
  })

  it('cuts the lists strictly in priority: failed, changed, rolled-back (in part), succeeded (nothing)', () => {
    const results = [
      host('down1', 22, 'error', { changed: false, rollback: null }),
      host('down2', 22, 'error', { changed: false, rollback: null }),
      ...Array.from({ length: 6 }, (_, i) => host(`web${i}`, 22, 'success')),
    ]
    const hostsAndStatus = JSON.stringify(results.map((r) => ({ host: r.target.host, status: r.status })))
    // The four counts (2, 6, 6, 6) take one unit each, then results; the lists get the rest: room for
    // failed and changed whole, rolled-back's first two names, and 4 units (not the 5 of `\nweb2`).
    const counts = 4
    const room = 'down1\ndown2'.length + 'web0\nweb1\nweb2\nweb3\nweb4\nweb5'.length + 'web0\nweb1'.length + 4
    const { values, trim } = buildOutputs(results, [], '', counts + hostsAndStatus.length + room)
    assert.equal(values.results, hostsAndStatus)
    assert.equal(values.failed, 'down1\ndown2')
    assert.equal(values.changed, 'web0\nweb1\nweb2\nweb3\nweb4\nweb5')
    assert.equal(values['rolled-back'], 'web0\nweb1')
    // `web0` (4 units) would fit, but succeeded comes after a cut list: it gets none.
    assert.equal(values.succeeded, '')
    assert.deepEqual(trim.listsCut, ['succeeded', 'rolled-back'])
    assert.deepEqual([values['failed-count'], values['changed-count'], values['rolled-back-count'], values['succeeded-count']], ['2', '6', '6', '6'])
  })
})

/**
 * Each list names its hosts in host order, as a prefix of them all; once one (in LIST_PRIORITY)
 * is cut, those after it are empty; listsCut says which; the counts are exact.
 */
function assertLists(results: HostResult[], values: Record<string, string>, listsCut: string[]): void {
  const members: Record<(typeof LIST_PRIORITY)[number], (r: HostResult) => boolean> = {
    failed: (r) => ['failed', 'unhealthy', 'error', 'timeout', 'cancelled'].includes(r.status),
    changed: (r) => r.changed,
    'rolled-back': (r) => r.rollback?.status === 'success',
    succeeded: (r) => r.status === 'success',
  }
  let cutBefore = false
  for (const l of LIST_PRIORITY) {
    const all = results.filter(members[l]).map((r) => r.target.label)
    const listed = values[l] === '' ? [] : values[l].split('\n')
    assert.deepEqual(listed, all.slice(0, listed.length), l)
    if (cutBefore) assert.deepEqual(listed, [], `${l} after a cut list`)
    assert.equal(listsCut.includes(l), listed.length < all.length, l)
    assert.equal(values[`${l}-count`], String(all.length), l)
    cutBefore ||= listed.length < all.length
  }
}

describe('resultEntry', () => {
  const r = hostResult(target('web2', 2222, 'ops'), 'failed', {
    exitCode: 7,
    durationMs: 4321,
    attempts: 2,
    tail: Array.from({ length: 20 }, (_, i) => `line ${i}`),
    errorKind: 'channel',
    hostKey: { type: 'ssh-ed25519', fingerprint: 'SHA256:abc' },
  })

  it('has exactly the documented fields, in order', () => {
    assert.deepEqual(Object.keys(resultEntry(r)), [
      'host',
      'address',
      'port',
      'username',
      'status',
      'exitCode',
      'signal',
      'error',
      'durationMs',
      'output',
      'attempts',
      'batch',
      'groups',
      'preflight',
      'check',
      'rollback',
    ])
    assert.deepEqual(resultEntry(r, 3), {
      host: 'web2',
      address: 'web2',
      port: 2222,
      username: 'ops',
      status: 'failed',
      exitCode: 7,
      signal: null,
      error: null,
      durationMs: 4321,
      output: 'line 17\nline 18\nline 19',
      attempts: 2,
      batch: null,
      groups: [],
      preflight: null,
      check: null,
      rollback: null,
    })
  })

  it('output is the last N lines (20 by default, none for 0)', () => {
    assert.equal(resultEntry(r).output, r.tail.join('\n'))
    assert.equal(resultEntry(r, 1).output, 'line 19')
    assert.equal(resultEntry(r, 0).output, '')
    assert.equal(resultEntry(hostResult('x', 'skipped')).output, '')
  })

  it('preflight as in the result; check with exactly attempts, exitCode, durationMs and soak', () => {
    const checked = hostResult('web3', 'unhealthy', {
      exitCode: 7,
      preflight: 'ok',
      check: { attempts: 12, planned: 12, exitCode: 7, durationMs: 55_000, soak: null, log: ['check 1/12: exit 7'] },
    })
    const e = resultEntry(checked)
    assert.equal(e.status, 'unhealthy')
    assert.equal(e.preflight, 'ok')
    assert.deepEqual(e.check, { attempts: 12, exitCode: 7, durationMs: 55_000, soak: null })
    assert.deepEqual(Object.keys(e.check ?? {}), ['attempts', 'exitCode', 'durationMs', 'soak'])
    const soaked = resultEntry(hostResult('web4', 'unhealthy', { preflight: 'failed', check: { ...checked.check!, attempts: 2, exitCode: 1, soak: 'failed' } }))
    assert.equal(soaked.preflight, 'failed')
    assert.deepEqual(soaked.check, { attempts: 2, exitCode: 1, durationMs: 55_000, soak: 'failed' })
  })

  it('rollback: status, exitCode, durationMs and its last lines as output, masked, the error as one more last line', () => {
    const tail = Array.from({ length: 20 }, (_, i) => `undo ${i} with hunter2`)
    const failed = hostResult('web5', 'success', { rollback: { status: 'failed', exitCode: 3, durationMs: 900, tail, error: null } })
    assert.deepEqual(resultEntry(failed, 20, ['hunter2']).rollback, {
      status: 'failed',
      exitCode: 3,
      durationMs: 900,
      output: tail.map((l) => l.replace('hunter2', '***')).join('\n'),
    })
    const lost = hostResult('web6', 'failed', {
      rollback: { status: 'error', exitCode: null, durationMs: 50, tail: ['stopping', 'x'], error: 'connection lost: hunter2 closed it' },
    })
    assert.deepEqual(resultEntry(lost, 20, ['hunter2']).rollback, {
      status: 'error',
      exitCode: null,
      durationMs: 50,
      output: 'stopping\nx\nconnection lost: *** closed it',
    })
    // Cut to the last N lines as output is, the error line kept after them; none for 0.
    assert.equal(resultEntry(lost, 1).rollback?.output, 'x\nconnection lost: hunter2 closed it')
    assert.equal(resultEntry(lost, 0).rollback?.output, '')
    assert.equal(resultEntry(failed, 2).rollback?.output, 'undo 18 with hunter2\nundo 19 with hunter2')
  })

  it('resultsJson cuts the rollback output lines with the output lines', () => {
    const lines = (what: string) => Array.from({ length: 20 }, (_, i) => `${what} ${i} `.padEnd(200, 'x'))
    const results = Array.from({ length: 50 }, (_, i) =>
      hostResult(`web${i}`, 'failed', {
        tail: lines('cmd'),
        rollback: { status: 'timeout', exitCode: null, durationMs: 1, tail: lines('undo'), error: 'timed out' },
      }),
    )
    // 50 hosts × 2 × 20 lines of 200: about 400,000 units with 20 lines; 200,000 with 10.
    const r = resultsJson(results, [], 250_000)
    assert.equal(r.tailLines, 10)
    const entries = JSON.parse(r.json) as Array<{ output: string; rollback: { output: string } }>
    assert.equal(entries[0].output, lines('cmd').slice(-10).join('\n'))
    assert.equal(entries[0].rollback.output, [...lines('undo').slice(-10), 'timed out'].join('\n'))
  })
})

describe('the outputs as documented', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const outputsSection = readme.slice(readme.indexOf('\n## Outputs\n'), readme.indexOf('\n## ', readme.indexOf('\n## Outputs\n') + 1))
  const yml = readFileSync(join(ROOT, 'action.yml'), 'utf8')
  const declared = [...yml.slice(yml.indexOf('\noutputs:\n'), yml.indexOf('\nruns:\n')).matchAll(/^ {2}([a-z-]+):\s*$/gm)].map((m) => m[1])
  const names = Object.keys(buildOutputs([hostResult('a', 'success')]).values)

  it('every output set is declared in action.yml and has a row in the README, and no other', () => {
    assert.deepEqual([...declared].sort(), [...names].sort())
    const rows = [...outputsSection.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1])
    assert.deepEqual([...rows].sort(), [...names].sort())
  })

  it('the README states the drop order and the order the lists keep their names in', () => {
    const flat = outputsSection.replace(/\s+/g, ' ')
    assert.ok(flat.includes(`order: ${DROP_ORDER.map((f) => `\`${f}\``).join(', ')}.`), 'DROP_ORDER')
    assert.ok(flat.includes(`in this order: ${LIST_PRIORITY.map((l) => `\`${l}\``).join(', ')};`), 'LIST_PRIORITY')
  })

  it('the README documents every field of a results entry', () => {
    const r = hostResult('a', 'unhealthy', {
      check: { attempts: 1, planned: 1, exitCode: 1, durationMs: 1, soak: 'failed', log: [] },
      rollback: { status: 'success', exitCode: 0, durationMs: 1, tail: [], error: null },
    })
    const e = resultEntry(r)
    for (const f of [...Object.keys(e), ...Object.keys(e.check ?? {}), ...Object.keys(e.rollback ?? {})]) {
      assert.ok(outputsSection.includes(`\`${f}\``) || outputsSection.includes(`"${f}"`), f)
    }
  })
})
