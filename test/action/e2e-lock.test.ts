/**
 * The fleet lock from the built bundles (main and post) against a real sshd, with a local HTTP
 * server standing in for the Actions API (GITHUB_API_URL). The post step runs as the runner runs
 * it: the same inputs, and STATE_lock from the state file the main step wrote.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { commandsOf, DIST_POST, runAction, type ActionRun } from '../helpers/action.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { requireSshd } from '../helpers/sshd.js'

/** How the API stand-in answers for a run id: a status, 403, or never (the action gives up after 5 s). */
type Answer = 'in_progress' | 'completed' | 403 | 'hang'

describe('fleet lock (built action, real sshd)', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let fleet: Fleet
  let api: Server
  let apiUrl: string
  const answers = new Map<string, Answer>()
  const asked: string[] = []
  before(async () => {
    fleet = await startFleet(['127.0.0.1', '127.0.0.2'])
    api = createServer((req, res) => {
      const id = /\/actions\/runs\/(\d+)$/.exec(req.url ?? '')?.[1] ?? ''
      asked.push(id)
      const a = answers.get(id) ?? 'in_progress'
      if (a === 'hang') return
      if (a === 403) return void res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Resource not accessible by integration"}')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: Number(id), status: a }))
    })
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r))
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  })
  after(async () => {
    api?.closeAllConnections()
    await new Promise((r) => api?.close(r))
    await fleet?.stop()
  })

  const inputs = (lock: string, more: Record<string, string> = {}) => ({
    hosts: fleet.hosts.join('\n'),
    username: fleet.username,
    'private-key': fleet.clientKey,
    'known-hosts': fleet.knownHosts,
    command: 'echo ran-on-host',
    lock,
    'github-token': 'test-token',
    ...more,
  })
  const runEnv = (runId: string, attempt = '1') => ({
    GITHUB_RUN_ID: runId,
    GITHUB_RUN_ATTEMPT: attempt,
    GITHUB_API_URL: apiUrl,
    GITHUB_JOB: 'deploy',
    GITHUB_ACTOR: 'alice',
  })
  const main = (lock: string, runId: string, more: Record<string, string> = {}, opts: Parameters<typeof runAction>[1] = {}, attempt = '1') =>
    runAction(inputs(lock, more), { ...opts, env: { ...runEnv(runId, attempt), ...opts.env } })
  const post = (lock: string, runId: string, of: ActionRun, more: Record<string, string> = {}) =>
    runAction(inputs(lock, more), { entry: DIST_POST, env: { ...runEnv(runId), ...(of.state.lock !== undefined ? { STATE_lock: of.state.lock } : {}) } })
  /** The holder files of the lock on the lock host (the first host), or -1 when the lock directory is absent. */
  const holders = async (lock: string): Promise<number> => {
    const r = await runAction({
      ...inputs(''),
      hosts: fleet.hosts[0],
      command: `d=~/.ssh-fanout/locks/${lock}; if [ -d $d ]; then echo HOLDERS=$(ls $d | grep -c '^holder'); else echo HOLDERS=-1; fi`,
    })
    return Number(/HOLDERS=(-?\d+)/.exec(r.stdout)?.[1] ?? 'NaN')
  }
  /** A lock left by hand on the lock host, as an earlier run would have written it. */
  const plant = async (lock: string, runId: string, time: string) => {
    const record = JSON.stringify({
      repository: 'octo/deploy',
      workflow: 'deploy',
      runId,
      attempt: 1,
      job: 'old',
      actor: 'bob',
      sha: 'fedcba9876543210',
      runUrl: '',
      time,
    })
    const r = await runAction({
      ...inputs(''),
      hosts: fleet.hosts[0],
      command: `d=~/.ssh-fanout/locks/${lock}; mkdir -p $d && printf '%s\\n' '${record}' > $d/record.json && echo octo/deploy/${runId}/1 > $d/run && echo planted > $d/id && : > $d/holder.x`,
    })
    assert.equal(r.code, 0, r.stdout)
  }
  const warnings = (r: ActionRun) => commandsOf(r, 'warning').map((c) => c.message)
  const errors = (r: ActionRun) => commandsOf(r, 'error').map((c) => c.message)

  it('takes the lock before the hosts run, holds it through the step, and post releases it after success', async () => {
    const m = await main('t-success', '100', { command: 'echo HOLDERS=$(ls ~/.ssh-fanout/locks/t-success | grep -c ^holder)' })
    assert.equal(m.code, 0, m.stdout)
    assert.match(m.stdout, /lock t-success on 127\.0\.0\.1:\d+ taken/)
    assert.match(m.stdout, /HOLDERS=1/)
    assert.equal(await holders('t-success'), 1)
    const p = await post('t-success', '100', m)
    assert.equal(p.code, 0, p.stdout)
    assert.match(p.stdout, /lock t-success on \S+ released/)
    assert.equal(await holders('t-success'), -1)
  })

  it('post releases it after a failed step too', async () => {
    const m = await main('t-failure', '101', { command: 'exit 3' })
    assert.equal(m.code, 1)
    const p = await post('t-failure', '101', m)
    assert.equal(p.code, 0, p.stdout)
    assert.equal(await holders('t-failure'), -1)
  })

  it('another run holding it (in progress) at lock-wait 0: refused at once naming the holder; no host runs; post has nothing to do', async () => {
    const first = await main('t-held', '200')
    assert.equal(first.code, 0)
    answers.set('200', 'in_progress')
    const second = await main('t-held', '201')
    assert.equal(second.code, 1)
    assert.doesNotMatch(second.stdout, /ran-on-host/)
    const e = errors(second).join('\n')
    assert.match(e, /lock t-held is held by octo\/deploy run 200 \(deploy, alice, sha 0123456\) since \d\d:\d\d UTC: refused/)
    assert.match(e, /remove the lock by hand: ssh -p \d+ \S+@127\.0\.0\.1 'rm -rf ~\/\.ssh-fanout\/locks\/t-held'/)
    assert.match(second.summary, /is held by octo\/deploy run 200/)
    assert.equal(second.state.lock ?? '', '')
    const p2 = await post('t-held', '201', second)
    assert.doesNotMatch(p2.stdout, /released|could not/)
    assert.equal(await holders('t-held'), 1, 'the first run still holds it')
    await post('t-held', '200', first)
    assert.equal(await holders('t-held'), -1)
  })

  it('the second run waits, naming the holder, then goes once the first releases it', async () => {
    const first = await main('t-wait', '300')
    answers.set('300', 'in_progress')
    let out = ''
    const release: Array<Promise<ActionRun>> = []
    const opts = {
      env: { SSH_FANOUT_LOCK_POLL_MS: '200' },
      onStdout: (t: string) => {
        out += t
        if (release.length === 0 && /waiting up to/.test(out)) release.push(post('t-wait', '300', first))
      },
    }
    const second = await main('t-wait', '301', { 'lock-wait': '2m' }, opts)
    assert.equal(second.code, 0, second.stdout)
    assert.match(second.stdout, /lock t-wait is held by octo\/deploy run 300 \(deploy, alice, sha 0123456\) since \d\d:\d\d UTC: waiting up to 2 min/)
    assert.match(second.stdout, /ran-on-host/)
    assert.equal(release.length, 1, 'the first released while the second waited')
    assert.equal((await release[0]).code, 0)
    await post('t-wait', '301', second)
    assert.equal(await holders('t-wait'), -1)
  })

  it('shards of one run share it (same run id and attempt): it goes with the last holder', async () => {
    const shards = await Promise.all([1, 2, 3, 4].map((i) => main('t-shards', '400', { shard: `${i}/4` })))
    for (const s of shards) assert.equal(s.code, 0, s.stdout)
    assert.equal(shards.filter((s) => / taken;/.test(s.stdout)).length, 1)
    assert.equal(shards.filter((s) => / joined /.test(s.stdout)).length, 3)
    assert.equal(await holders('t-shards'), 4)
    for (const [i, s] of shards.entries()) {
      const p = await post('t-shards', '400', s)
      assert.match(p.stdout, i < 3 ? /other jobs of this run still hold it/ : /released/)
    }
    assert.equal(await holders('t-shards'), -1)
  })

  it('cancelled while waiting: stops at once, and post has nothing to release', async () => {
    const first = await main('t-cancel', '500')
    answers.set('500', 'in_progress')
    const second = await main('t-cancel', '501', { 'lock-wait': '10m' }, { interruptOn: /waiting up to/ })
    assert.notEqual(second.code, 0)
    assert.ok(second.exitAfterSignalMs !== null && second.exitAfterSignalMs < 5_000)
    assert.doesNotMatch(second.stdout, /ran-on-host/)
    assert.equal(second.state.lock ?? '', '')
    await post('t-cancel', '500', first)
    assert.equal(await holders('t-cancel'), -1)
  })

  it('cancelled while the hosts run: post still releases it', async () => {
    const m = await main('t-sigint', '550', { command: 'sleep 60' }, { interruptOn: /t-sigint on \S+ taken/ })
    assert.notEqual(m.code, 0)
    assert.ok(m.exitAfterSignalMs !== null && m.exitAfterSignalMs < 10_000)
    const p = await post('t-sigint', '550', m)
    assert.match(p.stdout, /released/)
    assert.equal(await holders('t-sigint'), -1)
  })

  it('a stale lock whose run has completed is taken over with a warning naming the old holder', async () => {
    await plant('t-stale', '600', new Date().toISOString())
    answers.set('600', 'completed')
    const m = await main('t-stale', '601')
    assert.equal(m.code, 0, m.stdout)
    assert.match(
      warnings(m).join('\n'),
      /lock t-stale on \S+ was held by octo\/deploy run 600 \(old, bob, sha fedcba9\).*whose run has completed: taking it over/,
    )
    await post('t-stale', '601', m)
    assert.equal(await holders('t-stale'), -1)
  })

  it('the API cannot answer (403): refused within lock-wait; a record older than 6 hours is taken over', async () => {
    answers.set('700', 403)
    await plant('t-403', '700', new Date(Date.now() - 3_600_000).toISOString())
    const refused = await main('t-403', '701')
    assert.equal(refused.code, 1)
    assert.match(errors(refused).join('\n'), /lock t-403 is held by octo\/deploy run 700 .*refused.*rm -rf ~\/\.ssh-fanout\/locks\/t-403/)
    await plant('t-403', '700', new Date(Date.now() - 7 * 3_600_000).toISOString())
    const taken = await main('t-403', '702')
    assert.equal(taken.code, 0, taken.stdout)
    assert.match(warnings(taken).join('\n'), /the Actions API answered 403, and the record is older than 6 h\): taking it over/)
    await post('t-403', '702', taken)
    assert.equal(await holders('t-403'), -1)
  })
  it('the API gives no answer within 5 s: refused at lock-wait 0 for a recent record, saying why', async () => {
    answers.set('800', 'hang')
    await plant('t-hang', '800', new Date().toISOString())
    const r = await main('t-hang', '801')
    assert.equal(r.code, 1)
    assert.match(errors(r).join('\n'), /lock t-hang is held by octo\/deploy run 800 .*refused/)
    assert.ok(asked.includes('800'))
    assert.ok(r.durationMs >= 5_000, `${r.durationMs} ms`)
    await runAction({ ...inputs(''), hosts: fleet.hosts[0], command: 'rm -rf ~/.ssh-fanout/locks/t-hang' })
  })

  it('post that cannot reach the lock host warns, naming the lock left behind and how to remove it, and exits 0', async () => {
    const state = JSON.stringify({ name: 't-gone', token: 'abc', host: '127.0.0.1:1', removal: "ssh -p 1 u@127.0.0.1 'rm -rf ~/.ssh-fanout/locks/t-gone'" })
    const p = await runAction(
      {
        ...inputs('t-gone'),
        hosts: '127.0.0.1:1',
        'known-hosts': '[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlwnxMEDBX3EHxm6OqOABC/JO6gixirKizea8JQ3Yqf',
      },
      { entry: DIST_POST, env: { ...runEnv('900'), STATE_lock: state } },
    )
    assert.equal(p.code, 0, p.stdout + p.stderr)
    assert.match(
      warnings(p).join('\n'),
      /lock t-gone on 127\.0\.0\.1:1 could not be released \(.*ECONNREFUSED.*\); it stays held until removed by hand: ssh -p 1 u@127\.0\.0\.1 'rm -rf ~\/\.ssh-fanout\/locks\/t-gone'/,
    )
  })

  it('post does nothing without a lock state (no lock input, or never taken)', async () => {
    const p = await runAction(inputs(''), { entry: DIST_POST, env: runEnv('901') })
    assert.equal(p.code, 0)
    assert.equal(p.stdout.trim(), '')
  })
})
