import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { MAX_HOSTS } from '../../src/engine/targets/hosts.js'
import type { HostResult, HostStatus } from '../../src/engine/model.js'
import { buildOutputs, DROP_ORDER, OUTPUTS_BUDGET, resultsJson, setOutputs } from '../../src/action/results/outputs.js'
import { buildSummary } from '../../src/action/results/summary.js'
import { parseOutputFile } from '../helpers/action.js'
import { hostResult, target } from '../helpers/results.js'

const ONE_MB = 1_000_000

/** A result as a big fleet has them: connect timeouts after 3 attempts, or 20 long output lines. */
function host(name: string, port: number, status: HostStatus, over: Partial<HostResult> = {}): HostResult {
  const failedToConnect = status === 'error'
  return hostResult(target(name, port), status, {
    error: failedToConnect ? 'connect timeout: no session within 30 s (stalled during SSH handshake)' : null,
    errorKind: failedToConnect ? 'connect timeout' : null,
    exitCode: status === 'success' ? 0 : status === 'failed' ? 1 : null,
    durationMs: 30_012,
    tail: failedToConnect ? [] : Array.from({ length: 20 }, (_, i) => `line ${i} `.padEnd(120, 'x')),
    attempts: failedToConnect ? 3 : 1,
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

  it('every output stays under the limit whatever the names, and says what it left out (property, 5000 hosts)', () => {
    const statuses: HostStatus[] = ['success', 'failed', 'error', 'timeout', 'skipped', 'cancelled']
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 253 }), fc.integer({ min: 0, max: 253 }), fc.nat(), (minLen, spread, seed) => {
        const results = Array.from({ length: MAX_HOSTS }, (_, i) => {
          const len = Math.min(253, minLen + ((i * 7919 + seed) % (spread + 1)))
          const name = `${i}.`.padEnd(len, 'n')
          return host(name, i % 3 === 0 ? 22 : 2222, statuses[(i + seed) % statuses.length])
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
        const succeeded = results.filter((r) => r.status === 'success').map((r) => r.target.label)
        const listed = values.succeeded === '' ? [] : values.succeeded.split('\n')
        assert.deepEqual(listed, succeeded.slice(0, listed.length))
        assert.equal(trim.listsCut.includes('succeeded'), listed.length < succeeded.length)
        assert.equal(values['succeeded-count'], String(succeeded.length))
        assert.equal((JSON.parse(fullJson) as unknown[]).length, MAX_HOSTS)
      }),
      { numRuns: 12 },
    )
  })

  it('with names too long for even host and status, keeps the first hosts, cuts the lists, and the summary says so', () => {
    const results = Array.from({ length: MAX_HOSTS }, (_, i) => host(`${i}.`.padEnd(253, 'n'), 22, 'success'))
    const { values, trim } = buildOutputs(results)
    assert.ok(trim.hostsLeftOut > 0)
    assert.deepEqual(trim.listsCut, ['succeeded'])
    assert.deepEqual(trim.droppedFields, [...DROP_ORDER])
    const run = { results, failures: 0, thresholdExceeded: false, stoppedEarly: false, cancelled: false, preflight: null, rollback: null }
    const html = buildSummary(run, { failed: false, message: 'ok' }, { ...trim, resultsFile: '/tmp/r.json', hostKeysShown: false })
    assert.ok(html.includes(`leaves out the last ${trim.hostsLeftOut} hosts`), html.slice(-2000))
    assert.ok(html.includes('<code>succeeded</code> output list is incomplete'), html.slice(-2000))
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
    // 25 hosts × 20 lines of 800 × 日: about 405,000 code units, 1.2 MB in UTF-8: fits whole.
    const cjk = Array.from({ length: 25 }, (_, i) => host(`web${i}`, 22, 'success', { tail: tailOf('日'.repeat(800)) }))
    const kept = buildOutputs(cjk)
    assert.ok(Buffer.byteLength(kept.values.results) > 1_000_000)
    assert.equal(kept.trim.tailLines, 20)
    assert.ok(total(kept.values) <= OUTPUTS_BUDGET)
    // The same count of emoji is twice as many code units: trimmed.
    const emoji = Array.from({ length: 25 }, (_, i) => host(`web${i}`, 22, 'success', { tail: tailOf('😀'.repeat(800)) }))
    const cut = buildOutputs(emoji)
    assert.ok(cut.trim.tailLines < 20, String(cut.trim.tailLines))
    assert.ok(total(cut.values) <= OUTPUTS_BUDGET, `all outputs: ${total(cut.values)} UTF-16 code units`)
  })

  it('results comes first: the lists are cut (failed before succeeded) only when host and status of every host do not fit beside them', () => {
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
    assert.deepEqual(trim.listsCut.sort(), ['failed', 'succeeded'])
    // Everything, the results-file path included, within the budget; the counts stay exact.
    assert.ok(total(values) + path.length <= OUTPUTS_BUDGET, `all outputs: ${total(values) + path.length} UTF-16 code units`)
    assert.ok(OUTPUTS_BUDGET - (total(values) + path.length) < 50, 'the lists take what is left')
    assert.equal(values['failed-count'], String(MAX_HOSTS / 2))
  })
})
