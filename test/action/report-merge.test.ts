/** report-from's merge rules (src/action/report/merge.ts), on files as log-dir writes them. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mergeShards, type ShardFiles } from '../../src/action/report/merge.js'
import { fullResultsJson } from '../../src/action/results/outputs.js'
import { runRecord } from '../../src/action/results/run-json.js'
import { buildOutputs } from '../../src/action/results/outputs.js'
import { verdict } from '../../src/action/results/verdict.js'
import type { HostResult } from '../../src/engine/model.js'
import { shardSlice } from '../../src/engine/targets/rollout.js'
import { fanoutResult, hostResult, target } from '../helpers/results.js'

/** The files one shard's log-dir would write for `results`. */
function shardFiles(
  results: HostResult[],
  index: number,
  count: number,
  total: number,
  over: { attempt?: number; runId?: string; dir?: string } = {},
): ShardFiles {
  const env = { GITHUB_RUN_ID: over.runId ?? '77', GITHUB_RUN_ATTEMPT: String(over.attempt ?? 1), GITHUB_REPOSITORY: 'octo/app', GITHUB_JOB: 'deploy' }
  const when = new Date('2026-12-04T12:00:00Z')
  const run = runRecord(results, { shard: { index, count }, totalHosts: total, inventory: false, checkPlanned: 12, startedAt: when, endedAt: when }, env)
  const dir = over.dir ?? `shards/${index}`
  return {
    resultsPath: `${dir}/results.json`,
    runPath: `${dir}/run.json`,
    results: JSON.parse(fullResultsJson(results)),
    run: JSON.parse(JSON.stringify(run)),
  }
}

/** 10 hosts of every kind: ports, several users on one host, failures, a rollback, output lines. */
function fleet(): HostResult[] {
  return [
    hostResult('web1', 'success', { tail: ['deployed', 'ok'] }),
    hostResult(target('web2', 2222), 'failed', { exitCode: 3, tail: ['boom'] }),
    hostResult({ ...target('db1'), username: 'alice', label: 'alice@db1' }, 'success'),
    hostResult({ ...target('db1'), username: 'bob', label: 'bob@db1' }, 'error', { errorKind: null }),
    hostResult('2001:db8::1', 'success'),
    hostResult({ host: '2001:db8::2', port: 2200, username: 'deploy', label: '[2001:db8::2]:2200' }, 'timeout'),
    hostResult('web5', 'skipped', { batch: 2 }),
    hostResult('web6', 'failed', {
      exitCode: 1,
      batch: 1,
      rollback: { status: 'error', exitCode: null, durationMs: 5, tail: ['undo'], error: 'connection lost during the rollback' },
    }),
    hostResult('web7', 'cancelled', { changed: true }),
    hostResult('web8', 'success', { batch: 1, check: { attempts: 3, planned: 12, exitCode: 0, durationMs: 40, soak: 'ok', log: [] } }),
  ]
}

const split = (hosts: HostResult[], n: number) =>
  Array.from({ length: n }, (_, i) => shardFiles(shardSlice(hosts, { index: i + 1, count: n }), i + 1, n, hosts.length))

describe('mergeShards', () => {
  it('gives back the fleet as one job had it: every entry, label and changed flag, in host order, whatever the files order', () => {
    const hosts = fleet()
    const files = split(hosts, 4).reverse()
    const merged = mergeShards(files)
    assert.deepEqual(merged.missing, [])
    assert.equal(merged.totalHosts, 10)
    assert.equal(fullResultsJson(merged.results), fullResultsJson(hosts))
    assert.deepEqual(
      merged.results.map((r) => r.target.label),
      hosts.map((r) => r.target.label),
    )
    assert.deepEqual(
      merged.results.map((r) => r.changed),
      hosts.map((r) => r.changed),
    )
    // run.json keeps what results.json does not: the health check's planned attempts
    assert.deepEqual(merged.results[9].check, { ...hosts[9].check, log: [] })
    // the same outputs as one job over the fleet
    assert.deepEqual(buildOutputs(merged.results).values, buildOutputs(hosts).values)
  })

  it('names a missing shard, sized by the documented split, and counts its hosts as failed', () => {
    const hosts = fleet()
    const files = split(hosts, 4)
    // 10 hosts over 4: 2, 3, 2, 3
    const merged = mergeShards([files[0], files[1], files[3]])
    assert.deepEqual(merged.missing, [{ shard: '3/4', hosts: 2 }])
    assert.equal(merged.results.length, 8)
    const v = verdict(fanoutResult(merged.results, { thresholdExceeded: true }), { kind: 'count', value: 0 }, undefined, merged.missing)
    assert.equal(v.failed, true)
    assert.match(v.message, /^6 of 10 hosts failed, more than max-failures \(0\): .*shard 3\/4 \(2 hosts, reported nothing\)$/)
    const out = buildOutputs(merged.results, [], '', undefined, merged.missing).values
    assert.equal(out['missing-shards'], '3/4')
    assert.equal(out['failed-count'], '6')
    assert.equal(out.failed.split('\n').length, 4, 'failed names only the hosts known by name')
  })

  it('a host in two files takes the later run attempt, at its place in the fleet', () => {
    const hosts = fleet()
    const files = split(hosts, 2)
    const rerun = shardSlice(hosts, { index: 1, count: 2 }).map((r) => ({ ...r, status: 'success' as const, exitCode: 0, error: null }))
    const merged = mergeShards([shardFiles(rerun, 1, 2, 10, { attempt: 2, dir: 'shards/1-again' }), ...files])
    assert.equal(merged.results.length, 10)
    assert.deepEqual(
      merged.results.slice(0, 5).map((r) => r.status),
      ['success', 'success', 'success', 'success', 'success'],
    )
    assert.deepEqual(
      merged.results.map((r) => r.target.label),
      hosts.map((r) => r.target.label),
    )
  })

  it('the same attempt twice for one host is an error naming both files', () => {
    const files = split(fleet(), 2)
    const again = { ...files[0], resultsPath: 'copy/results.json', runPath: 'copy/run.json' }
    assert.throws(() => mergeShards([...files, again]), /shards\/1\/results\.json and copy\/results\.json both have host web1 from run attempt 1/)
  })

  it('files disagreeing on the run id, the shard count or the fleet size are errors naming both run.json', () => {
    const hosts = fleet()
    const [a] = split(hosts, 2)
    const otherRun = shardFiles(shardSlice(hosts, { index: 2, count: 2 }), 2, 2, 10, { runId: '78' })
    assert.throws(() => mergeShards([a, otherRun]), /shards\/1\/run\.json and shards\/2\/run\.json disagree on the run id \(77 and 78\)/)
    const otherCount = shardFiles(shardSlice(hosts, { index: 3, count: 3 }), 3, 3, 10)
    assert.throws(() => mergeShards([a, otherCount]), /shards\/1\/run\.json and shards\/3\/run\.json disagree on the number of shards \(2 and 3\)/)
    const otherSize = shardFiles(shardSlice(hosts, { index: 2, count: 2 }), 2, 2, 11)
    assert.throws(() => mergeShards([a, otherSize]), /disagree on the fleet's host count \(10 and 11\)/)
  })

  it('an empty shard reports [] and is not missing; a run with no hosts merges to none', () => {
    const hosts = fleet().slice(0, 2)
    const files = split(hosts, 4)
    assert.deepEqual(
      files.map((f) => (f.results as unknown[]).length),
      [0, 1, 0, 1],
    )
    const merged = mergeShards(files)
    assert.deepEqual(merged.missing, [])
    assert.equal(fullResultsJson(merged.results), fullResultsJson(hosts))
  })

  it('refuses files that are not what log-dir writes, naming them', () => {
    const [a] = split(fleet(), 1)
    assert.throws(() => mergeShards([{ ...a, run: [] }]), /shards\/1\/run\.json is not a JSON object/)
    assert.throws(() => mergeShards([{ ...a, run: { ...(a.run as object), shard: '9/8' } }]), /shards\/1\/run\.json has a bad shard/)
    assert.throws(() => mergeShards([{ ...a, results: {} }]), /shards\/1\/results\.json is not a JSON array/)
    assert.throws(() => mergeShards([{ ...a, results: [{ host: 'x', status: 'fine' }] }]), /shards\/1\/results\.json: entry 1 is not a host's result/)
    assert.throws(() => mergeShards([]), /matched no results\.json file/)
  })

  it('inventory names stay the labels, with their groups', () => {
    const inv = [
      hostResult({ host: '10.0.0.5', port: 2222, username: 'deploy', label: 'app1', inventory: { name: 'app1', groups: ['web'] } }, 'success'),
      hostResult({ host: '10.0.0.5', port: 2223, username: 'deploy', label: '10.0.0.5', inventory: { name: '10.0.0.5', groups: [] } }, 'success'),
    ]
    const when = new Date(0)
    const run = runRecord(inv, { shard: null, totalHosts: 2, inventory: true, checkPlanned: null, startedAt: when, endedAt: when }, {})
    const merged = mergeShards([
      { resultsPath: 'r/results.json', runPath: 'r/run.json', results: JSON.parse(fullResultsJson(inv)), run: JSON.parse(JSON.stringify(run)) },
    ])
    assert.deepEqual(
      merged.results.map((r) => r.target.label),
      ['app1', '10.0.0.5'],
    )
    assert.equal(fullResultsJson(merged.results), fullResultsJson(inv))
  })
})

describe('missing-shards in the outputs budget', () => {
  it('all outputs together stay within the budget with 255 missing shards, which are kept whole', () => {
    const hosts = Array.from({ length: 40 }, (_, i) => hostResult(`web${i}.example.com`, 'failed', { tail: ['x'.repeat(200)] }))
    const missing = Array.from({ length: 255 }, (_, i) => ({ shard: `${i + 2}/256`, hosts: 1 }))
    const budget = 6000
    const { values, trim } = buildOutputs(hosts, [], '/tmp/results.json', budget, missing)
    const total = Object.values(values).reduce((n, v) => n + v.length, 0) + '/tmp/results.json'.length
    assert.ok(total <= budget, `${total} > ${budget}`)
    assert.ok(trim.tailLines < 20, 'results was trimmed to make room')
    assert.equal(values['missing-shards'].split('\n').length, 255)
    assert.equal(values['failed-count'], '295')
  })
})
