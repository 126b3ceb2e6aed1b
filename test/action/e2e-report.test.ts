/**
 * report-from from the built bundle: a fleet of real sshd run in 8 shards with log-dir (as a
 * matrix would), then one step merging their files. Its summary, outputs and verdict must be those
 * of one job run over the same fleet; a missing shard fails all its hosts; a re-run shard's later
 * attempt replaces the first.
 */
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { commandsOf, results, runAction, type ActionRun } from '../helpers/action.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { requireSshd } from '../helpers/sshd.js'

const SHARDS = 8
/** Two hosts fail their command, two refuse connections: 4 failures of 10. */
const COMMAND = `case "$(echo "$SSH_CONNECTION" | cut -d' ' -f3)" in 127.0.23.2|127.0.23.5) echo broken; exit 3;; esac; echo deployed`

/** The summary without what differs between two runs of the same fleet: durations. */
const shape = (summary: string) => summary.replace(/<td>[\d.]+ (ms|s)( – [\d.]+ (ms|s))?<\/td>/g, '<td>DURATION</td>')
/** The table rows of a summary. */
const rows = (summary: string) => shape(summary).match(/<tr>.*<\/tr>/g) ?? []
/** The results entries without their durations (the command's and the health check's). */
const entries = (run: ActionRun) =>
  results(run).map(({ durationMs: _, check, ...rest }) => ({ ...rest, check: check && { ...(check as Record<string, unknown>), durationMs: 0 } }))

describe('report-from: one report for a fleet run in shards, through the built action', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let fleet: Fleet
  let workspace: string
  /** One job over the whole fleet, for comparison. */
  let single: ActionRun
  const addresses = Array.from({ length: 8 }, (_, i) => `127.0.23.${i + 1}`)
  /** 10 hosts: the 8 sshd with two refusing hosts among them (nothing listens on port 1). */
  let hosts: string[]
  const env = (attempt = 1) => ({ GITHUB_WORKSPACE: workspace, GITHUB_RUN_ATTEMPT: String(attempt), GITHUB_JOB: 'deploy' })
  const deploy = (extra: Record<string, string>, attempt = 1) =>
    runAction(
      {
        hosts: hosts.join('\n'),
        username: fleet.username,
        'private-key': fleet.clientKey,
        'known-hosts': fleet.knownHosts,
        retries: '0',
        'max-failures': '4',
        command: COMMAND,
        // the summary's health check cell says the planned attempts (1m every 5s: 12), which run.json carries
        'check-command': 'true',
        ...extra,
      },
      { env: env(attempt) },
    )
  const report = (patterns: string, extra: Record<string, string> = {}) => runAction({ 'report-from': patterns, 'max-failures': '4', ...extra }, { env: env() })

  before(async () => {
    fleet = await startFleet(addresses)
    hosts = [...fleet.hosts.slice(0, 2), '127.0.23.20:1', ...fleet.hosts.slice(2, 6), '127.0.23.21:1', ...fleet.hosts.slice(6)]
    workspace = mkdtempSync(join(tmpdir(), 'report-from-e2e-'))
    single = await deploy({ 'log-dir': 'single' })
    // The matrix: 8 jobs of the same run, each with its own log-dir (as each uploads its own artifact).
    const shards = await Promise.all(Array.from({ length: SHARDS }, (_, i) => deploy({ shard: `${i + 1}/${SHARDS}`, 'log-dir': `shards/${i + 1}` })))
    for (const s of shards) assert.ok(s.code === 0 || s.code === 1, s.stderr)
  })
  after(async () => {
    await fleet?.stop()
    if (workspace) rmSync(workspace, { recursive: true, force: true })
  })

  it('the single job: 4 of 10 failed within max-failures, and its log-dir has run.json', () => {
    assert.equal(single.code, 0, single.stdout)
    assert.equal(single.outputs['failed-count'], '4')
    const run = JSON.parse(readFileSync(join(workspace, 'single/run.json'), 'utf8')) as Record<string, unknown>
    assert.deepEqual(
      { ...run, startedAt: typeof run.startedAt, endedAt: typeof run.endedAt },
      {
        repository: 'octo/deploy',
        runId: '4242',
        runAttempt: 1,
        job: 'deploy',
        shard: null,
        totalHosts: 10,
        hosts: 10,
        inventory: false,
        checkPlanned: 12,
        changed: [0, 1, 3, 4, 5, 6, 8, 9],
        startedAt: 'string',
        endedAt: 'string',
      },
    )
    assert.ok(Date.parse(run.startedAt as string) <= Date.parse(run.endedAt as string))
    // 10 hosts over 8 shards: floor(i·10/8) − floor((i−1)·10/8)
    const sizes = Array.from(
      { length: SHARDS },
      (_, i) => JSON.parse(readFileSync(join(workspace, `shards/${i + 1}/run.json`), 'utf8')) as Record<string, unknown>,
    )
    assert.deepEqual(
      sizes.map((r) => [r.shard, r.hosts, r.totalHosts]),
      [1, 1, 1, 2, 1, 1, 1, 2].map((n, i) => [`${i + 1}/8`, n, 10]),
    )
  })

  it('eight shards merge into the summary, outputs and verdict of the single job', async () => {
    const r = await report('shards/*/results.json')
    assert.equal(r.code, 0, r.stdout)
    assert.match(r.stdout, /^ssh-fanout: report-from: 8 results\.json files for a fleet of 10 hosts: 10 hosts reported$/m)
    assert.ok(rows(single.summary).length >= 4, single.summary)
    assert.match(single.summary, /health check passed on attempt 1\/12/)
    assert.deepEqual(rows(r.summary), rows(single.summary))
    assert.equal(shape(r.summary), shape(single.summary))
    for (const name of [
      'succeeded',
      'failed',
      'changed',
      'rolled-back',
      'succeeded-count',
      'failed-count',
      'changed-count',
      'rolled-back-count',
      'results-file',
    ]) {
      assert.equal(r.outputs[name], single.outputs[name], name)
    }
    assert.deepEqual(entries(r), entries(single))
    assert.equal(r.outputs['missing-shards'], '')
    assert.equal(single.outputs['missing-shards'], '')
    // the same annotations, and the same warning verdict
    const annotations = (run: ActionRun) => [...commandsOf(run, 'error'), ...commandsOf(run, 'warning')].map((c) => c.message)
    assert.deepEqual(annotations(r), annotations(single))
  })

  it('a missing shard is named, fails all its hosts, and is in missing-shards', async () => {
    const dir = join(workspace, 'missing')
    cpSync(join(workspace, 'shards'), dir, { recursive: true })
    rmSync(join(dir, '4'), { recursive: true })
    const r = await report('missing/*/results.json')
    assert.equal(r.code, 1, r.stdout)
    assert.equal(r.outputs['missing-shards'], '4/8')
    assert.equal(r.outputs['failed-count'], '6')
    // only the hosts known by name: shard 4/8 held 127.0.23.3 and 127.0.23.4
    assert.deepEqual(r.outputs.failed.split('\n'), single.outputs.failed.split('\n'))
    assert.ok(!r.outputs.succeeded.includes(fleet.hosts[2]) && !r.outputs.succeeded.includes(fleet.hosts[3]))
    assert.match(r.summary, /<strong>shard 4\/8 reported nothing<\/strong> \(2 hosts, counted as failed\)/)
    assert.match(r.summary, /2 not reported/)
    assert.match(r.stdout, /shard 4\/8 reported nothing/)
    const failedLine = commandsOf(r, 'error').at(-1)!.message
    assert.match(failedLine, /^6 of 10 hosts failed, more than max-failures \(4\): .*shard 4\/8 \(2 hosts, reported nothing\)$/)
    assert.equal(results(r).length, 8)
  })

  it('a re-run shard: the later attempt of the same run replaces the first', async () => {
    const dir = join(workspace, 'rerun')
    cpSync(join(workspace, 'shards'), dir, { recursive: true })
    // "Re-run failed jobs": shard 2/8 (127.0.23.2, which failed) runs again as attempt 2, and now passes.
    const again = await runAction(
      {
        hosts: hosts.join('\n'),
        username: fleet.username,
        'private-key': fleet.clientKey,
        'known-hosts': fleet.knownHosts,
        retries: '0',
        shard: '2/8',
        command: 'echo fixed',
        'log-dir': 'rerun/2-attempt-2',
      },
      { env: env(2) },
    )
    assert.equal(again.code, 0, again.stdout)
    const r = await report('rerun/*/results.json')
    assert.equal(r.code, 0, r.stdout)
    const entry = results(r)[1]
    assert.equal(entry.address, '127.0.23.2')
    assert.equal(entry.status, 'success')
    assert.equal(entry.output, 'fixed')
    assert.equal(r.outputs['failed-count'], '3')
    assert.equal(results(r).length, 10)
    assert.ok(r.outputs.succeeded.split('\n').includes(fleet.hosts[1]))
    // the same attempt twice is an input error naming both files
    cpSync(join(dir, '2'), join(dir, '2-copy'), { recursive: true })
    const twice = await report('rerun/*/results.json')
    assert.equal(twice.code, 1)
    assert.match(
      commandsOf(twice, 'error').at(-1)!.message,
      /rerun\/2-copy\/results\.json and rerun\/2\/results\.json both have host 127\.0\.23\.2 from run attempt 1/,
    )
  })

  it('input errors: hosts or command beside report-from, a results.json without run.json, nothing matched', async () => {
    const withHosts = await report('shards/*/results.json', { hosts: 'web1', command: 'true' })
    assert.equal(withHosts.code, 1)
    assert.match(commandsOf(withHosts, 'error').at(-1)!.message, /^Input "report-from": cannot be used with "hosts", "command": /)
    const dir = join(workspace, 'norun')
    cpSync(join(workspace, 'shards/3'), join(dir, '3'), { recursive: true })
    rmSync(join(dir, '3/run.json'))
    const noRun = await report('norun/*/results.json')
    assert.match(commandsOf(noRun, 'error').at(-1)!.message, /^Input "report-from": norun\/3\/results\.json has no run\.json beside it \(norun\/3\/run\.json\)/)
    const none = await report('nothing/*/results.json')
    assert.match(commandsOf(none, 'error').at(-1)!.message, /^Input "report-from": matched no results\.json file in /)
    assert.equal(existsSync(join(workspace, 'nothing')), false)
  })

  it('an empty shard writes [] and its run.json, so it is not missing', async () => {
    const r = await runAction(
      { hosts: '127.0.23.20:1', username: 'nobody', password: 'unused', 'known-hosts': fleet.knownHosts, shard: '1/2', 'log-dir': 'empty/1', command: 'true' },
      { env: env() },
    )
    assert.equal(r.code, 0, r.stdout)
    assert.equal(readFileSync(join(workspace, 'empty/1/results.json'), 'utf8'), '[]')
    const run = JSON.parse(readFileSync(join(workspace, 'empty/1/run.json'), 'utf8')) as Record<string, unknown>
    assert.deepEqual([run.shard, run.hosts, run.totalHosts], ['1/2', 0, 1])
    const one = await report('empty/*/results.json', { 'max-failures': '0' })
    // shard 1/2 reported its nothing; shard 2/2 (the one host) is missing
    assert.equal(one.outputs['missing-shards'], '2/2')
    assert.equal(one.outputs['failed-count'], '1')
    assert.equal(one.outputs.failed, '')
    assert.equal(one.code, 1)
    assert.match(commandsOf(one, 'error').at(-1)!.message, /^1 of 1 host failed, more than max-failures \(0\): shard 2\/2 \(1 host, reported nothing\)$/)
  })
})
