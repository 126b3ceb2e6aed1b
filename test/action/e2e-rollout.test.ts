/**
 * The built bundle against real sshd: rolling batches (canary, ramp, pause), shards, and a fleet
 * reached through a jump host.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { tcpProxy, type TcpProxy } from '../helpers/net.js'
import { requireSshd, type Sshd } from '../helpers/sshd.js'

/** A directory every login user can write to: each host that ran the command leaves a file named after its address. */
function markerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-rollout-'))
  chmodSync(dir, 0o777)
  return dir
}

/** Leaves a file named after the host's address (SSH_CONNECTION's third field) in `dir`, then runs `rest`. */
const mark = (dir: string, rest = 'true') => `touch ${dir}/$(echo "$SSH_CONNECTION" | cut -d' ' -f3); ${rest}`

describe('rolling batches and shards through the built action', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let fleet: Fleet
  const addresses = ['127.0.3.1', '127.0.3.2', '127.0.3.3', '127.0.3.4', '127.0.3.5']
  before(async () => {
    fleet = await startFleet(addresses)
  })
  after(async () => {
    await fleet?.stop()
  })
  const inputs = () => ({ hosts: fleet.hosts.join('\n'), username: fleet.username, 'private-key': fleet.clientKey, 'known-hosts': fleet.knownHosts })

  it('a failing canary stops the rollout: later batches never run the command, whatever fail-fast says', async () => {
    const dir = markerDir()
    try {
      const run = await runAction({ ...inputs(), 'batch-size': '1, 50%', 'fail-fast': 'false', command: mark(dir, 'exit 3') })
      assert.equal(run.code, 1)
      const res = results(run)
      assert.deepEqual(
        res.map((r) => r.status),
        ['failed', 'skipped', 'skipped', 'skipped', 'skipped'],
      )
      assert.match(String(res[1].error), /max-failures was exceeded by batch 1\/3, so later batches do not start/)
      assert.deepEqual(readdirSync(dir), ['127.0.3.1'])
      assert.match(run.stdout, /ssh-fanout: batch 1\/3: 1 host\n/)
      assert.doesNotMatch(run.stdout, /batch 2\/3/)
      assert.match(commandsOf(run, 'error').at(-1)!.message, /not started \(later batches\)/)
      // A skipped host's reason is in its group's title, once: the group has nothing else to say.
      const skipped = run.groups.filter((g) => g.title.includes('skipped'))
      assert.equal(skipped.length, 4, JSON.stringify(run.groups))
      for (const g of skipped) {
        assert.match(g.title, /max-failures was exceeded by batch 1\/3/)
        assert.deepEqual(g.lines, [], g.title)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a ramp sizes the batches as stated (1, then 50% rounded up, repeating) and each finishes before the next', async () => {
    const dir = markerDir()
    try {
      const run = await runAction({ ...inputs(), 'batch-size': '1, 50%', concurrency: '5', command: mark(dir) })
      assert.equal(run.code, 0, run.stdout)
      assert.deepEqual(
        results(run).map((r) => r.batch),
        [1, 2, 2, 2, 3],
      )
      const lines = run.stdout.split('\n')
      const at = (re: RegExp) => lines.findIndex((l) => re.test(l))
      assert.ok(at(/batch 1\/3: 1 host$/) >= 0 && at(/batch 2\/3: 3 hosts$/) > at(/batch 1\/3/) && at(/batch 3\/3: 1 host$/) > at(/batch 2\/3/), run.stdout)
      // Every group of batch k is printed before batch k+1 starts.
      const groupLines = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('::group::'))
      const before2 = groupLines.filter(([, i]) => i < at(/batch 2\/3/)).length
      const before3 = groupLines.filter(([, i]) => i < at(/batch 3\/3/)).length
      assert.deepEqual([before2, before3], [1, 4])
      assert.match(run.summary, /<th>Batch<\/th>/)
      assert.equal(readdirSync(dir).length, 5)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('cancelling during batch-pause ends the wait at once: later hosts are skipped, the step fails', async () => {
    // A 10-minute pause, and the action is killed after 2 minutes: it can only exit by itself if the signal cuts the pause short.
    const run = await runAction(
      { ...inputs(), 'batch-size': '2', 'batch-pause': '10m', command: 'true' },
      { interruptOn: /batch-pause: waiting until \S+ before batch 2\/3/, timeoutMs: 120_000 },
    )
    assert.ok(run.exitAfterSignalMs !== null, 'the signal was sent')
    assert.equal(run.signal, null, `the action did not exit by itself: killed after ${run.exitAfterSignalMs} ms`)
    assert.notEqual(run.code, 0)
    assert.deepEqual(
      results(run).map((r) => r.status),
      ['success', 'success', 'skipped', 'skipped', 'skipped'],
    )
  })

  it('shards split the host list into disjoint, complete slices and say which one ran', async () => {
    const ran: string[][] = []
    for (const shard of ['1/2', '2/2']) {
      const run = await runAction({ ...inputs(), shard, command: 'true' })
      assert.equal(run.code, 0, run.stdout)
      ran.push(results(run).map((r) => String(r.host)))
      assert.match(run.stdout, new RegExp(`ssh-fanout: running on \\d hosts \\(shard ${shard}: hosts? [\\d-]+ of 5\\)`))
      assert.match(run.summary, new RegExp(`shard ${shard}`))
    }
    assert.deepEqual(ran, [addresses.slice(0, 2), addresses.slice(2)])
  })

  it('a shard of one host says "1 host"; an empty shard says it has no hosts and succeeds', async () => {
    const one = await runAction({ ...inputs(), shard: '3/5', command: 'true' })
    assert.equal(one.code, 0, one.stdout)
    assert.match(one.stdout, /^ssh-fanout: running on 1 host \(shard 3\/5: host 3 of 5\), 1 at a time /m)
    assert.match(one.stdout, /^The 1 host succeeded$/m)
    const empty = await runAction({ ...inputs(), shard: '6/8', command: 'true' })
    assert.equal(empty.code, 0, empty.stdout)
    assert.deepEqual(results(empty), [])
    assert.match(empty.stdout, /^ssh-fanout: shard 6\/8 has no hosts \(the list has 5\): nothing to run$/m)
    assert.doesNotMatch(empty.stdout, /running on 0|0 hosts|0 at a time/)
    assert.match(empty.stdout, /^Nothing to run: shard 6\/8 has no hosts \(the list has 5\)$/m)
    assert.match(empty.summary, /Nothing to run: shard 6\/8 has no hosts/)
    assert.doesNotMatch(empty.summary, /<table>/)
  })
})

describe('a private fleet behind a jump host, through the built action', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let fleet: Fleet
  let bastion: Sshd
  let target: Sshd
  let proxies: TcpProxy[] = []
  const HOSTS = 200
  before(async () => {
    // The bastion with OpenSSH's default MaxStartups (a login per target would trip it) and a log that shows every forward.
    fleet = await startFleet(['127.0.4.1', '127.0.4.2'], { extraConfig: ['LogLevel DEBUG1', 'MaxStartups 10:30:100', 'MaxSessions 10'] })
    ;[bastion, target] = fleet.servers
    // 200 target addresses, all served by one sshd behind a loopback proxy each.
    proxies = await Promise.all(Array.from({ length: HOSTS }, (_, i) => tcpProxy({ host: target.host, port: target.port }, `127.0.5.${i + 1}`)))
  })
  after(async () => {
    await Promise.all(proxies.map((p) => p.close()))
    await fleet?.stop()
  })
  const fingerprints = () => [...bastion.hostKeys, ...target.hostKeys].map((k) => k.fingerprint).join('\n')
  /** The first `n` targets, reached through the bastion with the fleet's login. */
  const throughBastion = (n: number) => ({
    hosts: proxies
      .slice(0, n)
      .map((p) => `${p.host}:${p.port}`)
      .join('\n'),
    username: fleet.username,
    'private-key': fleet.clientKey,
    'jump-host': `${bastion.host}:${bastion.port}`,
  })

  it(`carries ${HOSTS} hosts over ONE bastion login (one forward each), past MaxStartups 10:30:100`, async () => {
    const logins = (bastion.log().match(/Accepted publickey/g) ?? []).length
    const run = await runAction(
      {
        hosts: proxies.map((p) => `${p.host}:${p.port}`).join('\n'),
        username: fleet.username,
        'private-key': fleet.clientKey,
        fingerprints: fingerprints(),
        'jump-host': `${bastion.host}:${bastion.port}`,
        concurrency: '50',
        command: 'echo ok',
      },
      { timeoutMs: 300_000 },
    )
    assert.equal(run.code, 0, run.stdout.slice(-3000))
    assert.equal(run.outputs['succeeded-count'], String(HOSTS))
    assert.match(run.stdout, /through jump host 127\.0\.4\.1:\d+/)
    assert.match(run.stdout, /jump host 127\.0\.4\.1:\d+: connected/)
    const log = bastion.log()
    assert.equal((log.match(/Accepted publickey/g) ?? []).length - logins, 1, 'one login on the bastion')
    const forwards = new Set([...log.matchAll(/server_request_direct_tcpip: .*target (127\.0\.5\.\d+) port/g)].map((m) => m[1]))
    assert.equal(forwards.size, HOSTS, 'a forward per target in the bastion log')
    assert.doesNotMatch(run.stdout, /connection lost/)
  })

  it('uploads files and runs a script-file through the bastion, on the same forwarded connection', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'ssh-fanout-ws-'))
    chmodSync(workspace, 0o755)
    const remote = `/tmp/ssh-fanout-e2e-jump-upload-${process.pid}-${Date.now()}`
    try {
      mkdirSync(join(workspace, 'dist'))
      writeFileSync(join(workspace, 'dist/app.txt'), 'through the bastion\n')
      writeFileSync(join(workspace, 'deploy.sh'), `#!/bin/sh\ncat ${remote}/app.txt\n`)
      const run = await runAction(
        {
          ...throughBastion(3),
          fingerprints: fingerprints(),
          upload: 'dist/',
          'upload-to': remote,
          'script-file': 'deploy.sh',
        },
        { env: { GITHUB_WORKSPACE: workspace } },
      )
      assert.equal(run.code, 0, run.stdout.slice(-3000))
      assert.equal(run.outputs['succeeded-count'], '3')
      assert.equal((run.stdout.match(/^through the bastion$/gm) ?? []).length, 3)
    } finally {
      rmSync(workspace, { recursive: true, force: true })
      rmSync(remote, { recursive: true, force: true })
    }
  })

  // OpenSSH presents Ed25519 first: the bastion must be asked for the key it is trusted by, as a target is.
  const rsaKey = () => bastion.hostKeys.find((k) => k.type === 'ssh-rsa')!
  const trustedByRsa: Record<string, () => Record<string, string>> = {
    'a known-hosts line': () => ({ 'known-hosts': `${bastion.knownHosts.split('\n').find((l) => l.includes(' ssh-rsa '))!}\n${target.knownHosts}` }),
    'a fingerprint': () => ({ fingerprints: [rsaKey().fingerprint, ...target.hostKeys.map((k) => k.fingerprint)].join('\n') }),
  }
  for (const [how, trust] of Object.entries(trustedByRsa)) {
    it(`a bastion trusted only by its RSA key (${how}) carries the run, which ends without a "connection lost" line`, async () => {
      const run = await runAction({
        hosts: `${target.host}:${target.port}`,
        username: fleet.username,
        'private-key': fleet.clientKey,
        ...trust(),
        'jump-host': `${bastion.host}:${bastion.port}`,
        command: 'echo ok',
      })
      assert.equal(run.code, 0, run.stdout)
      assert.deepEqual(
        results(run).map((r) => r.status),
        ['success'],
      )
      const label = `${bastion.host}:${bastion.port}`.replace(/\./g, '\\.')
      assert.match(run.stdout, new RegExp(`^ssh-fanout: jump host ${label}: connected \\(ssh-rsa ${rsaKey().fingerprint.replace(/[+/]/g, '\\$&')}\\)`, 'm'))
      assert.match(run.stdout, /^ssh-fanout: running on 1 host, 1 at a time, through jump host /m)
      assert.doesNotMatch(run.stdout, /connection lost/)
    })
  }

  it('an untrusted bastion fails every target fast, naming it once, and no target is attempted', async () => {
    const before = proxies.slice(0, 3).map((p) => p.accepted)
    const run = await runAction({
      ...throughBastion(3),
      fingerprints: target.hostKeys.map((k) => k.fingerprint).join('\n'),
      command: 'echo ok',
    })
    assert.equal(run.code, 1)
    const res = results(run)
    assert.deepEqual(
      res.map((r) => [r.status, r.attempts]),
      [
        ['error', 0],
        ['error', 0],
        ['error', 0],
      ],
    )
    for (const r of res) assert.match(String(r.error), /^jump host 127\.0\.4\.1:\d+ unavailable: host key: 127\.0\.4\.1:\d+ presented /)
    // Said once, clearly: in the log, and in one annotation (the title names the bastion, the message says why).
    const lines = run.stdout.split('\n').filter((l) => /^ssh-fanout: jump host /.test(l))
    assert.equal(lines.length, 1, run.stdout)
    assert.match(
      lines[0],
      /^ssh-fanout: jump host 127\.0\.4\.1:\d+ unavailable: host key: 127\.0\.4\.1:\d+ presented \S+ SHA256:\S+ \(and .*\); no host is attempted through it$/,
    )
    assert.equal(lines[0].match(/unavailable/g)?.length, 1, lines[0])
    const bastionErrors = commandsOf(run, 'error').filter((c) => /unavailable/.test(c.properties.title ?? ''))
    assert.equal(bastionErrors.length, 1, JSON.stringify(commandsOf(run, 'error')))
    assert.match(bastionErrors[0].properties.title, /^ssh-fanout: jump host 127\.0\.4\.1:\d+ unavailable$/)
    assert.match(bastionErrors[0].message, /^host key: 127\.0\.4\.1:\d+ presented .*; no host was attempted through it$/)
    assert.doesNotMatch(bastionErrors[0].message, /unavailable/)
    assert.deepEqual(
      proxies.slice(0, 3).map((p) => p.accepted),
      before,
      'no target was contacted',
    )
  })
})
