/**
 * The built bundle against real sshd: safe rollouts (issue 17): preflight, the health gate
 * (check-command, the soak check at the end of batch-pause) and the rollback of what changed.
 */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { closedPort, tcpProxy, type TcpProxy } from '../helpers/net.js'
import { requireSshd } from '../helpers/sshd.js'
import { whenDirSettles } from '../helpers/wait.js'

/** A directory every login user can write to. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-safe-'))
  chmodSync(dir, 0o777)
  return dir
}

/** The host's address as the host sees it (SSH_CONNECTION's third field), in shell. */
const ADDR = `$(echo "$SSH_CONNECTION" | cut -d' ' -f3)`
/** Leaves `dir/<prefix><address>` holding a nanosecond timestamp and the given shell words. */
const stamp = (dir: string, prefix: string, words = '') => `echo "$(date +%s%N) ${words}" > ${dir}/${prefix}${ADDR}`

type Result = Record<string, unknown> & { host: string; status: string }

describe('safe rollouts through the built action', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let fleet: Fleet
  const addresses = ['127.0.17.1', '127.0.17.2', '127.0.17.3', '127.0.17.4', '127.0.17.5', '127.0.17.6']
  before(async () => {
    fleet = await startFleet(addresses)
  })
  after(async () => {
    await fleet?.stop()
  })
  const inputs = () => ({ hosts: fleet.hosts.join('\n'), username: fleet.username, 'private-key': fleet.clientKey, 'known-hosts': fleet.knownHosts })
  const withDir = async (fn: (dir: string) => Promise<void>) => {
    const dir = scratch()
    try {
      await fn(dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  /** Files `prefix<address>` in dir, as address -> [timestamp, words…]. */
  const stamps = (dir: string, prefix: string) =>
    new Map(
      readdirSync(dir)
        .filter((f) => f.startsWith(prefix))
        .map((f) => [f.slice(prefix.length), readFileSync(join(dir, f), 'utf8').trim().split(' ')] as const),
    )

  it('a failing canary with rollback-command rolls back exactly the canary, and nothing else', () =>
    withDir(async (dir) => {
      const run = await runAction({
        ...inputs(),
        'batch-size': '1, 50%',
        command: `${stamp(dir, 'ran-')}; exit 3`,
        'rollback-command': `${stamp(dir, 'rb-', '$SSH_FANOUT_STATUS')}; echo rolled back`,
      })
      assert.equal(run.code, 1, run.stdout)
      const res = results(run) as Result[]
      assert.deepEqual(
        res.map((r) => r.status),
        ['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped'],
      )
      assert.deepEqual([...stamps(dir, 'ran-').keys()], ['127.0.17.1'])
      const rolled = stamps(dir, 'rb-')
      assert.deepEqual([...rolled.keys()], ['127.0.17.1'])
      assert.equal(rolled.get('127.0.17.1')![1], 'failed', 'SSH_FANOUT_STATUS is the host’s own status')
      assert.deepEqual(res[0].rollback, {
        status: 'success',
        exitCode: 0,
        durationMs: (res[0].rollback as { durationMs: number }).durationMs,
        output: 'rolled back',
      })
      for (const r of res.slice(1)) assert.equal(r.rollback, null, r.host)
      assert.equal(run.outputs.changed, fleet.hosts[0])
      assert.equal(run.outputs['rolled-back'], fleet.hosts[0])
      assert.equal(run.outputs['changed-count'], '1')
      assert.match(run.summary, /rolled back 1 of 1 changed host/)
      assert.ok(
        run.groups.some((g) => /rollback success/.test(g.title) && g.lines.includes('rolled back')),
        JSON.stringify(run.groups.map((g) => g.title)),
      )
    }))

  it('a failure in the third batch rolls back batches 3, 2, 1 in that order, each batch done before the older one starts', () =>
    withDir(async (dir) => {
      const bad = addresses[4]
      const run = await runAction({
        ...inputs(),
        'batch-size': '2',
        command: `${stamp(dir, 'ran-')}; [ ${ADDR} != ${bad} ]`,
        'rollback-command': stamp(dir, 'rb-', '$SSH_FANOUT_STATUS "$SSH_FANOUT_ROLLBACK_REASON"'),
      })
      assert.equal(run.code, 1, run.stdout)
      const res = results(run) as Result[]
      assert.deepEqual(
        res.map((r) => r.batch),
        [1, 1, 2, 2, 3, 3],
      )
      assert.equal(res[4].status, 'failed')
      const changed = res.filter((r) => r.status !== 'skipped').map((r) => r.host)
      const rolled = stamps(dir, 'rb-')
      assert.deepEqual([...rolled.keys()].sort(), [...stamps(dir, 'ran-').keys()].sort(), 'every host the command reached, and only those')
      assert.deepEqual([...rolled.keys()].sort(), changed.sort())
      const at = (host: string) => BigInt(rolled.get(host)![0])
      const batchTimes = (b: number) => res.filter((r) => r.batch === b && rolled.has(r.host)).map((r) => at(r.host))
      const [b1, b2, b3] = [batchTimes(1), batchTimes(2), batchTimes(3)]
      assert.equal(b1.length, 2)
      assert.equal(b2.length, 2)
      const max = (xs: bigint[]) => xs.reduce((a, b) => (a > b ? a : b))
      const min = (xs: bigint[]) => xs.reduce((a, b) => (a < b ? a : b))
      assert.ok(max(b3) < min(b2), 'batch 3 rolled back before batch 2')
      assert.ok(max(b2) < min(b1), 'batch 2 rolled back before batch 1')
      assert.equal(rolled.get(bad)![1], 'failed')
      assert.equal(rolled.get(addresses[0])![1], 'success')
      const reason = rolled.get(bad)!.slice(2).join(' ')
      assert.match(reason, /more than max-failures allows \(0\)/)
      assert.match(reason, new RegExp(`${bad.replace(/\./g, '\\.')}:\\d+ exit 1`))
      assert.equal(Number(run.outputs['rolled-back-count']), changed.length)
      assert.match(run.stdout, /rolling back|rollout halted/)
    }))

  it('an unhealthy host (a check that never passes) halts the rollout and is rolled back; the check runs on the command’s connection', () =>
    withDir(async (dir) => {
      const sick = addresses[1]
      const run = await runAction({
        ...inputs(),
        'batch-size': '3',
        command: `echo deployed; echo "$SSH_CONNECTION" > ${dir}/conn-${ADDR}`,
        // The check sees the command's connection: SSH_CONNECTION holds the same client port.
        'check-command': `[ "$SSH_CONNECTION" = "$(cat ${dir}/conn-${ADDR})" ] && echo same-connection; [ ${ADDR} != ${sick} ] || { echo down >&2; exit 7; }`,
        'check-interval': '1s',
        'check-timeout': '3s',
        'rollback-command': stamp(dir, 'rb-'),
      })
      assert.equal(run.code, 1, run.stdout)
      const res = results(run) as Result[]
      assert.deepEqual(
        res.map((r) => r.status),
        ['success', 'unhealthy', 'success', 'skipped', 'skipped', 'skipped'],
      )
      const check = res[1].check as { attempts: number; exitCode: number; soak: unknown }
      assert.equal(check.exitCode, 7)
      assert.equal(res[1].exitCode, 7)
      assert.ok(check.attempts >= 1 && check.attempts <= 3, String(check.attempts))
      assert.equal(check.soak, null)
      assert.match(String(res[1].output), /down/)
      assert.deepEqual((res[0].check as { attempts: number }).attempts, 1)
      assert.match(String(res[0].output), /deployed/)
      assert.deepEqual([...stamps(dir, 'rb-').keys()].sort(), addresses.slice(0, 3))
      const group = run.groups.find((g) => g.title.includes('unhealthy'))!
      assert.ok(group, JSON.stringify(run.groups.map((g) => g.title)))
      assert.ok(
        group.lines.some((l) => /^check 1\/3: exit 7$/.test(l)),
        group.lines.join('\n'),
      )
      const healthy = run.groups.find((g) => g.title.includes(fleet.hosts[0]) && g.title.includes('success'))!
      assert.ok(healthy.lines.includes('check 1/3: exit 0'), healthy.lines.join('\n'))
      assert.ok(healthy.lines.includes('same-connection'), healthy.lines.join('\n'))
      assert.ok(commandsOf(run, 'error').some((c) => /unhealthy/.test(c.message)))
    }))

  it('a check that passes on its third attempt gives success with attempts: 3', () =>
    withDir(async (dir) => {
      const run = await runAction({
        ...inputs(),
        hosts: fleet.hosts[0],
        command: 'true',
        'check-command': `n=$(cat ${dir}/n 2>/dev/null || echo 0); n=$((n + 1)); echo $n > ${dir}/n; echo "attempt $n"; [ $n -ge 3 ]`,
        'check-interval': '1s',
      })
      assert.equal(run.code, 0, run.stdout)
      const [r] = results(run) as Result[]
      assert.equal(r.status, 'success')
      const check = r.check as { attempts: number; exitCode: number; durationMs: number; soak: unknown }
      assert.deepEqual({ attempts: check.attempts, exitCode: check.exitCode, soak: check.soak }, { attempts: 3, exitCode: 0, soak: null })
      assert.ok(check.durationMs >= 2_000, `attempts start 1 s apart: ${check.durationMs} ms`)
      const group = run.groups[0]
      assert.deepEqual(
        group.lines.filter((l) => /^check \d+\/\d+: /.test(l)),
        ['check 1/60: exit 1', 'check 2/60: exit 1', 'check 3/60: exit 0'],
      )
      assert.ok(group.lines.includes('attempt 3'), 'the last attempt’s output in full')
    }))

  it('the soak check at the end of batch-pause catches a host that became unhealthy after its check passed', () =>
    withDir(async (dir) => {
      const run = await runAction({
        ...inputs(),
        'batch-size': '2',
        'batch-pause': '1s',
        command: 'true',
        // Host 1 passes its first check and fails every later one (its soak check): sick since.
        'check-command': `n=$(cat ${dir}/n-${ADDR} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > ${dir}/n-${ADDR}; [ ${ADDR} != ${addresses[0]} ] || [ $n -le 1 ] || { echo "soak $n"; exit 5; }`,
        'rollback-command': stamp(dir, 'rb-'),
      })
      assert.equal(run.code, 1, run.stdout)
      const res = results(run) as Result[]
      assert.deepEqual(
        res.map((r) => r.status),
        ['unhealthy', 'success', 'skipped', 'skipped', 'skipped', 'skipped'],
      )
      assert.deepEqual(
        res.slice(0, 2).map((r) => (r.check as { soak: unknown }).soak),
        ['failed', 'ok'],
      )
      assert.equal(res[0].exitCode, 5)
      assert.match(String(res[0].output), /soak 2/)
      assert.match(String(res[0].error), /soak check/)
      assert.match(String(res[2].error), /max-failures was exceeded by batch 1\/3 \(its soak check\)/)
      assert.deepEqual([...stamps(dir, 'rb-').keys()].sort(), addresses.slice(0, 2))
      assert.match(run.stdout, /soak check: .*batch 1\/3/)
    }))

  it('preflight with one unreachable host in batch 3 and max-failures 0 changes no host at all', () =>
    withDir(async (dir) => {
      const dead = `127.0.17.9:${await closedPort('127.0.17.9')}`
      const hosts = [...fleet.hosts.slice(0, 4), dead, fleet.hosts[4]]
      const run = await runAction({
        ...inputs(),
        hosts: hosts.join('\n'),
        'batch-size': '2',
        preflight: 'true',
        command: stamp(dir, 'ran-'),
        'rollback-command': stamp(dir, 'rb-'),
      })
      assert.equal(run.code, 1, run.stdout)
      assert.deepEqual(readdirSync(dir), [], 'no host ran the command, none was rolled back')
      const res = results(run) as Result[]
      assert.deepEqual(
        res.map((r) => r.status),
        ['skipped', 'skipped', 'skipped', 'skipped', 'error', 'skipped'],
      )
      assert.match(String(res[4].error), /^preflight: /)
      assert.equal(res[4].preflight, 'failed')
      for (const r of res.filter((r) => r.status === 'skipped')) {
        assert.equal(r.error, 'not started: preflight failed on 1 host')
        assert.equal(r.preflight, 'ok')
      }
      assert.equal(run.outputs.changed, '')
      assert.equal(run.outputs['changed-count'], '0')
      assert.match(run.stdout, /^ssh-fanout: preflight: 6 hosts/m)
      assert.match(run.stdout, /^ssh-fanout: preflight: 5 of 6 hosts passed in .*; 1 failed, more than max-failures allows/m)
      assert.doesNotMatch(run.stdout, /batch 1\/3/)
      assert.match(run.summary, /preflight/i)
    }))

  it('within max-failures, a host that failed preflight keeps its result and the others run; preflight-command implies preflight', () =>
    withDir(async (dir) => {
      const run = await runAction({
        ...inputs(),
        hosts: fleet.hosts.slice(0, 3).join('\n'),
        'max-failures': '1',
        'preflight-command': `[ ${ADDR} != ${addresses[1]} ] || { echo no room >&2; exit 9; }`,
        command: stamp(dir, 'ran-'),
      })
      assert.equal(run.code, 0, run.stdout)
      const res = results(run) as Result[]
      assert.deepEqual(
        res.map((r) => [r.status, r.preflight, r.exitCode]),
        [
          ['success', 'ok', 0],
          ['failed', 'failed', 9],
          ['success', 'ok', 0],
        ],
      )
      assert.match(String(res[1].error), /^preflight: preflight-command exited 9/)
      assert.match(String(res[1].output), /no room/)
      assert.deepEqual([...stamps(dir, 'ran-').keys()].sort(), [addresses[0], addresses[2]])
    }))

  describe('a host whose key is swapped between preflight and its command', () => {
    let proxy: TcpProxy
    before(async () => {
      // The first connection (preflight) reaches one sshd, every later one another with other host keys.
      const [a, b] = fleet.servers
      proxy = await tcpProxy((n) => (n === 1 ? { host: a.host, port: a.port } : { host: b.host, port: b.port }), '127.0.17.8')
    })
    after(async () => {
      await proxy?.close()
    })
    it('is refused (host key changed since preflight), even with strict-host-key-checking false', () =>
      withDir(async (dir) => {
        const run = await runAction({
          ...inputs(),
          hosts: `${proxy.host}:${proxy.port}`,
          'strict-host-key-checking': 'false',
          'known-hosts': '',
          preflight: 'true',
          command: stamp(dir, 'ran-'),
        })
        assert.equal(run.code, 1, run.stdout)
        const [r] = results(run) as Result[]
        assert.equal(r.status, 'error')
        assert.equal(r.preflight, 'ok')
        assert.match(String(r.error), /host key changed since preflight/)
        assert.deepEqual(readdirSync(dir), [])
        assert.equal(proxy.accepted, 2)
      }))
  })

  it('env applies to all four commands: preflight-command, command, check-command, rollback-command', () =>
    withDir(async (dir) => {
      const write = (what: string) => `echo "$APP_ENV" > ${dir}/${what}-${ADDR}`
      const run = await runAction({
        ...inputs(),
        hosts: fleet.hosts[0],
        env: 'APP_ENV=staging-7',
        'preflight-command': write('preflight'),
        command: `${write('command')}; exit 1`,
        'check-command': write('check'),
        'rollback-command': write('rollback'),
      })
      assert.equal(run.code, 1, run.stdout)
      // The command failed, so its check did not run.
      assert.deepEqual(readdirSync(dir).sort(), ['command-127.0.17.1', 'preflight-127.0.17.1', 'rollback-127.0.17.1'])
      for (const f of readdirSync(dir)) assert.equal(readFileSync(join(dir, f), 'utf8'), 'staging-7\n', f)
      const ok = await runAction({ ...inputs(), hosts: fleet.hosts[0], env: 'APP_ENV=staging-7', command: 'true', 'check-command': write('check') })
      assert.equal(ok.code, 0, ok.stdout)
      assert.equal(readFileSync(join(dir, 'check-127.0.17.1'), 'utf8'), 'staging-7\n')
    }))

  it('a rollback that fails is reported, and the step still fails', () =>
    withDir(async (dir) => {
      const run = await runAction({
        ...inputs(),
        hosts: fleet.hosts.slice(0, 2).join('\n'),
        'fail-fast': 'false',
        command: `[ ${ADDR} != ${addresses[0]} ]`,
        'rollback-command': `echo cannot roll back >&2; exit 4`,
      })
      assert.equal(run.code, 1, run.stdout)
      const res = results(run) as Result[]
      assert.deepEqual(
        res.map((r) => [r.status, (r.rollback as { status: string; exitCode: number }).status, (r.rollback as { exitCode: number }).exitCode]),
        [
          ['failed', 'failed', 4],
          ['success', 'failed', 4],
        ],
      )
      assert.match(String((res[0].rollback as { output: string }).output), /cannot roll back/)
      assert.equal(run.outputs['rolled-back'], '')
      assert.equal(run.outputs['rolled-back-count'], '0')
      assert.match(run.summary, /rolled back 0 of 2 changed hosts \(2 failed\)/)
      assert.match(run.stdout, /rolled back 0 of 2 changed hosts \(2 failed\)/)
      assert.equal(run.groups.filter((g) => /rollback failed/.test(g.title)).length, 2, JSON.stringify(run.groups.map((g) => g.title)))
      assert.ok(existsSync(dir))
    }))

  it('cancelling during the rollout runs no rollback', () =>
    withDir(async (dir) => {
      const started = whenDirSettles(dir, () => readdirSync(dir).filter((f) => f.startsWith('ran-')).length === 2)
      const run = await runAction(
        {
          ...inputs(),
          hosts: fleet.hosts.slice(0, 2).join('\n'),
          command: `${stamp(dir, 'ran-')}; sleep 60`,
          'rollback-command': stamp(dir, 'rb-'),
        },
        { interruptWhen: started, timeoutMs: 90_000 },
      )
      assert.notEqual(run.code, 0)
      const res = results(run) as Result[]
      assert.deepEqual(
        res.map((r) => [r.status, r.rollback]),
        [
          ['cancelled', null],
          ['cancelled', null],
        ],
      )
      assert.deepEqual([...stamps(dir, 'rb-').keys()], [])
      assert.doesNotMatch(run.stdout, /rollout halted/)
    }))
})
