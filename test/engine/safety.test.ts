/**
 * The engine's safe rollouts against in-process ssh2 servers (faults sshd cannot show on cue):
 * the health check's attempts and how it ends (lost, cancelled), preflight's login-only run and
 * fail-fast, the rollback's environment, and one result per host through it all.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ServerChannel } from 'ssh2'
import { plannedAttempts } from '../../src/engine/host/check.js'
import { haltReason, ROLLBACK_REASON_NAME, STATUS_NAME } from '../../src/engine/fanout/rollback.js'
import { pinnedToPreflight } from '../../src/engine/trust/preflight-pin.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { fingerprintOf, hostKeyFromBlob } from '../../src/engine/trust/known-hosts.js'
import { generateKeyPair, startFakeServer, type FakeServer } from '../helpers/ssh2-server.js'
import { closedPort } from '../helpers/net.js'
import { runEngine, target, RecordingReporter } from '../helpers/engine.js'
import { hostResult } from '../helpers/results.js'
import ssh2 from 'ssh2'

/** A server whose `deploy` exits 0 and whose `check` answers with `checkExit(n)` on its n-th run. */
async function checkServer(checkExit: (n: number, stream: ServerChannel, server: FakeServer) => number | null): Promise<FakeServer> {
  let checks = 0
  const server: FakeServer = await startFakeServer({
    auth: { password: 'pw' },
    onExec: (command, stream) => {
      if (command.endsWith('check')) {
        checks += 1
        stream.write(`check run ${checks}\n`)
        const code = checkExit(checks, stream, server)
        if (code !== null) stream.exit(code)
        if (code !== null) stream.end()
        return
      }
      stream.write(`ran: ${command}\n`)
      stream.exit(0)
      stream.end()
    },
  })
  return server
}

const check = (over: Partial<{ intervalMs: number; timeoutMs: number }> = {}) => ({ command: 'check', intervalMs: 20, timeoutMs: 60_000, ...over })

describe('the health check (engine)', () => {
  it('plans the attempts that start before check-timeout: 12 for 1m every 5s, 1 when the interval is the timeout', () => {
    assert.equal(plannedAttempts(5_000, 60_000), 12)
    assert.equal(plannedAttempts(5_000, 61_000), 13)
    assert.equal(plannedAttempts(10_000, 10_000), 1)
    assert.equal(plannedAttempts(1_000, 3_000), 3)
  })

  it('passes on the third attempt: success, attempts 3, one line per attempt, the command’s output kept', async () => {
    const server = await checkServer((n) => (n >= 3 ? 0 : 7))
    try {
      const { results, reporter } = await runEngine([target(server.host, server.port)], { check: check(), session: { command: 'deploy' } })
      assert.equal(results[0].status, 'success')
      assert.equal(results[0].changed, true)
      assert.deepEqual(
        { ...results[0].check, durationMs: 0 },
        {
          attempts: 3,
          planned: 3000,
          exitCode: 0,
          durationMs: 0,
          soak: null,
          log: ['check 1/3000: exit 7', 'check 2/3000: exit 7', 'check 3/3000: exit 0'],
        },
      )
      assert.deepEqual(results[0].tail, ['ran: deploy'])
      assert.equal(reporter.finished.length, 1)
      assert.equal(server.connections, 1, 'the check runs over the command’s connection')
    } finally {
      await server.close()
    }
  })

  it('never passing: unhealthy with the last attempt’s exit code and output, and a failure for the threshold', async () => {
    const server = await checkServer(() => 3)
    try {
      const { results, failures, thresholdExceeded } = await runEngine([target(server.host, server.port)], {
        check: check({ intervalMs: 1_000, timeoutMs: 2_000 }),
        session: { command: 'deploy' },
      })
      const [r] = results
      assert.equal(r.status, 'unhealthy', JSON.stringify(r))
      assert.equal(r.exitCode, 3, JSON.stringify(r))
      assert.equal(r.check!.exitCode, 3)
      assert.ok(r.check!.attempts >= 1 && r.check!.attempts <= 2)
      assert.equal(r.check!.planned, 2)
      assert.match(r.tail.at(-1)!, /^check run \d$/)
      assert.match(r.error!, /^check-command did not pass within check-timeout/)
      assert.equal(failures, 1)
      assert.equal(thresholdExceeded, true)
    } finally {
      await server.close()
    }
  })

  it('a connection lost during the check ends the host `error` (connection lost), changed', async () => {
    const server = await checkServer((_n, _stream, s) => {
      void s.close()
      return null
    })
    try {
      const { results } = await runEngine([target(server.host, server.port)], { check: check(), session: { command: 'deploy' } })
      assert.equal(results[0].status, 'error')
      assert.equal(results[0].errorKind, 'connection lost')
      assert.match(results[0].error!, /connection lost during the health check .*the command had exited 0/)
      assert.equal(results[0].changed, true)
    } finally {
      await server.close()
    }
  })

  it('cancelling during the check ends the host `cancelled`, and no rollback runs', async () => {
    const cancel = new AbortController()
    const server = await checkServer(() => {
      cancel.abort()
      return null
    })
    try {
      const { results, rollback, cancelled } = await runEngine([target(server.host, server.port)], {
        check: check(),
        rollback: { command: 'rollback' },
        signal: cancel.signal,
        session: { command: 'deploy' },
      })
      assert.equal(cancelled, true)
      assert.equal(results[0].status, 'cancelled')
      assert.match(results[0].error!, /during the health check/)
      assert.equal(rollback, null)
      assert.equal(results[0].rollback, null)
      assert.ok(!server.commands.some((c) => c.endsWith('rollback')))
    } finally {
      await server.close()
    }
  })
})

describe('preflight and rollback (engine)', () => {
  it('preflight without a command logs in only: no exec, a new connection for the command', async () => {
    const server = await startFakeServer({ auth: { password: 'pw' } })
    try {
      const { results, preflight } = await runEngine([target(server.host, server.port)], { preflight: { command: null }, session: { command: 'deploy' } })
      assert.equal(results[0].status, 'success')
      assert.equal(results[0].preflight, 'ok')
      assert.deepEqual(server.commands, ['deploy'])
      assert.equal(server.connections, 2)
      assert.deepEqual({ ...preflight!, durationMs: 0 }, { hosts: 1, passed: 1, failed: 0, durationMs: 0, halted: false })
    } finally {
      await server.close()
    }
  })

  it('with fail-fast, preflight stops trying hosts once the threshold is exceeded; none runs the command', async () => {
    const servers = await Promise.all([startFakeServer({ auth: { password: 'pw' } }), startFakeServer({ auth: { password: 'pw' } })])
    try {
      const dead = target('127.0.0.1', await closedPort())
      const reporter = new RecordingReporter()
      const { results, preflight, stoppedEarly } = await runEngine(
        [dead, ...servers.map((s) => target(s.host, s.port))],
        { preflight: { command: null }, failFast: true, concurrency: 1, session: { command: 'deploy' } },
        reporter,
      )
      assert.deepEqual(
        results.map((r) => [r.status, r.preflight]),
        [
          ['error', 'failed'],
          ['skipped', null],
          ['skipped', null],
        ],
      )
      assert.match(results[0].error!, /^preflight: /)
      assert.equal(results[1].error, 'not started: preflight failed on 1 host')
      assert.deepEqual(
        servers.map((s) => s.connections),
        [0, 0],
      )
      assert.equal(preflight!.halted, true)
      assert.equal(stoppedEarly, true)
      assert.equal(reporter.finished.length, 3, 'one report per host')
    } finally {
      await Promise.all(servers.map((s) => s.close()))
    }
  })

  it('the rollback gets the halt reason and the host’s own status in its environment, on every changed host', async () => {
    const server = await startFakeServer({
      auth: { password: 'pw' },
      onExec: (command, stream) => {
        stream.exit(command.endsWith('deploy-bad') ? 2 : 0)
        stream.end()
      },
    })
    try {
      const targets = [target(server.host, server.port, 'a'), target(server.host, server.port, 'b')]
      targets[0].label = `a@${targets[0].label}`
      targets[1].label = `b@${targets[1].label}`
      const { results, rollback } = await runEngine(targets, {
        failFast: false,
        env: [{ name: 'APP', value: 'x' }],
        rollback: { command: 'rollback' },
        session: { command: 'deploy-bad' },
      })
      assert.equal(rollback!.hosts, 2)
      assert.equal(rollback!.succeeded, 2)
      const rollbacks = server.commands.filter((c) => c.endsWith('rollback'))
      assert.equal(rollbacks.length, 2)
      for (const c of rollbacks) {
        assert.ok(c.startsWith("APP='x'\nexport APP\n"), c)
        assert.match(c, new RegExp(`${STATUS_NAME}='failed'`))
        assert.match(c, new RegExp(`${ROLLBACK_REASON_NAME}='2 of 2 hosts failed, more than max-failures allows \\(0\\): a@[^']+ exit 2, b@[^']+ exit 2'`))
      }
      assert.deepEqual(
        results.map((r) => r.rollback?.status),
        ['success', 'success'],
      )
    } finally {
      await server.close()
    }
  })

  it('the halt reason is one line, naming at most five hosts', () => {
    const results = Array.from({ length: 8 }, (_, i) => hostResult(`web${i}`, i % 2 ? 'failed' : 'unhealthy'))
    const reason = haltReason(results, { kind: 'count', value: 1 })
    assert.equal(
      reason,
      '8 of 8 hosts failed, more than max-failures allows (1): web0 unhealthy, web1 exit 1, web2 unhealthy, web3 exit 1, web4 unhealthy, and 3 more',
    )
  })
})

describe('preflight pins each host to the key it showed', () => {
  const keyOf = (privateKey: string) => {
    const parsed = ssh2.utils.parseKey(privateKey)
    const blob = (Array.isArray(parsed) ? parsed[0] : parsed) as { getPublicSSH(): Buffer }
    return hostKeyFromBlob(blob.getPublicSSH())
  }
  it('refuses another key even with checking off, accepts the same one, and prefers its type', () => {
    const [a, b] = [keyOf(generateKeyPair().private), keyOf(generateKeyPair().private)]
    const web1 = target('web1', 22)
    const pinned = pinnedToPreflight(
      hostKeyPolicy({ strict: false, knownHosts: null, fingerprints: [] }),
      new Map([['web1', { type: a.type, fingerprint: fingerprintOf(a.blob) }]]),
    )
    assert.equal(pinned.reject(web1, a), null)
    assert.match(pinned.reject(web1, b)!, /host key changed since preflight/)
    assert.equal(pinned.reject(target('web2', 22), b), null, 'a host preflight did not see keeps the policy')
    assert.deepEqual(pinned.preferredAlgorithms(web1), ['ssh-ed25519'])
    assert.equal(pinned.askForOtherKeyTypes(web1, b), false)
  })
})
