/**
 * The built bundle against real sshd: what every host ends with when hosts do not start (a jump host
 * that cannot be had, a batch that never starts), and how the run is reported (labels of several
 * users on one host, log-dir names, the outputs' shared budget, log-viewer markers in host output).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { OUTPUTS_BUDGET } from '../../src/action/results/outputs.js'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { closedPort, tcpProxy, type TcpProxy } from '../helpers/net.js'
import { requireSshd, type Sshd } from '../helpers/sshd.js'

/** A named pipe every login user can write to, in a directory of its own. */
function fifo(): { path: string; dir: string; release(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-fifo-'))
  chmodSync(dir, 0o777)
  const path = join(dir, 'pipe')
  execFileSync('mkfifo', ['-m', '666', path])
  return {
    path,
    dir,
    // Unblocks a reader still waiting for a writer (a test that failed early), then removes the pipe.
    release: () => {
      try {
        closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK))
      } catch {
        // no reader waiting
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const re = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('scheduling outcomes and reporting through the built action', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let fleet: Fleet
  let bastion: Sshd
  let target: Sshd
  let proxies: TcpProxy[] = []
  const TARGETS = 40
  before(async () => {
    fleet = await startFleet(['127.0.8.1', '127.0.8.2'])
    ;[bastion, target] = fleet.servers
    // Target addresses, all served by one sshd behind a loopback proxy each.
    proxies = await Promise.all(Array.from({ length: TARGETS }, (_, i) => tcpProxy({ host: target.host, port: target.port }, `127.0.9.${i + 1}`)))
  })
  after(async () => {
    await Promise.all(proxies.map((p) => p.close()))
    await fleet?.stop()
  })
  const fingerprints = () => [...bastion.hostKeys, ...target.hostKeys].map((k) => k.fingerprint).join('\n')
  const targets = (n: number) =>
    proxies
      .slice(0, n)
      .map((p) => `${p.host}:${p.port}`)
      .join('\n')
  const login = () => ({ username: fleet.username, 'private-key': fleet.clientKey })

  // ---- issue 15, item 14 ------------------------------------------------------------------------

  const unavailableBastions: Record<string, () => Record<string, string> | Promise<Record<string, string>>> = {
    'untrusted (its key is not pinned)': () => ({
      'jump-host': `${bastion.host}:${bastion.port}`,
      fingerprints: target.hostKeys.map((k) => k.fingerprint).join('\n'),
    }),
    'unreachable (nothing listens)': async () => ({ 'jump-host': `127.0.8.3:${await closedPort('127.0.8.3')}`, fingerprints: fingerprints() }),
    'refusing the login': () => ({ 'jump-host': `no-such-user-here@${bastion.host}:${bastion.port}`, fingerprints: fingerprints() }),
  }
  for (const [how, bastionInputs] of Object.entries(unavailableBastions)) {
    it(`a jump host ${how}, with default inputs (fail-fast on, 10 at a time): every one of 15 targets ends error naming it, none skipped`, async () => {
      const before = proxies.slice(0, 15).map((p) => p.accepted)
      const run = await runAction({ hosts: targets(15), ...login(), ...(await bastionInputs()), command: 'echo ok' })
      assert.equal(run.code, 1)
      const res = results(run)
      assert.equal(res.length, 15)
      for (const r of res) {
        assert.equal(r.status, 'error', JSON.stringify(r))
        assert.equal(r.attempts, 0, JSON.stringify(r))
        assert.match(String(r.error), /^jump host 127\.0\.8\.\d+:\d+ unavailable: /)
      }
      // Said once, in one annotation naming the jump host; no annotation per host.
      const errors = commandsOf(run, 'error')
      assert.equal(
        errors.filter((c) => /^ssh-fanout: jump host 127\.0\.8\.\d+:\d+ unavailable$/.test(c.properties.title ?? '')).length,
        1,
        JSON.stringify(errors),
      )
      assert.match(errors.find((c) => /unavailable/.test(c.properties.title ?? ''))!.message, /; no host was attempted through it$/)
      assert.doesNotMatch(run.stdout, /skipped|fail-fast is on/)
      assert.deepEqual(
        proxies.slice(0, 15).map((p) => p.accepted),
        before,
        'no target was contacted',
      )
    })
  }

  // ---- issue 15, item 15 ------------------------------------------------------------------------

  it('a jump host lost mid-run that cannot be reconnected: the annotation says hosts ran through it, and how many did not', async () => {
    // The bastion behind a proxy of its own: closing it cuts the session and refuses the reconnect.
    const door = await tcpProxy({ host: bastion.host, port: bastion.port }, '127.0.8.4')
    const pipe = fifo()
    try {
      // The first host tells the test (through the pipe) that its command runs; then the bastion goes away under it.
      const started = readFile(pipe.path, 'utf8')
      const running = runAction({
        hosts: targets(3),
        ...login(),
        fingerprints: fingerprints(),
        'jump-host': `${door.host}:${door.port}`,
        concurrency: '1',
        'fail-fast': 'false',
        retries: '0',
        command: `echo started > ${pipe.path}; while sleep 1; do echo .; done`,
      })
      await Promise.race([started, running])
      await door.close()
      const run = await running
      assert.equal(run.code, 1)
      const res = results(run)
      assert.match(String(res[0].error), /^connection lost: jump host 127\.0\.8\.4:\d+/)
      assert.equal(res[2].errorKind ?? 'jump host', 'jump host')
      assert.match(String(res[2].error), /^jump host 127\.0\.8\.4:\d+ unavailable: refused: /)
      assert.equal(res[2].attempts, 0)
      const attempted = res.filter((r) => Number(r.attempts) > 0).length
      const notAttempted = res.length - attempted
      assert.ok(attempted >= 1 && notAttempted >= 1, JSON.stringify(res))
      const annotation = commandsOf(run, 'error').find((c) => /unavailable$/.test(c.properties.title ?? ''))
      assert.ok(annotation, JSON.stringify(commandsOf(run, 'error')))
      assert.doesNotMatch(annotation.message, /no host was attempted/)
      const host = (n: number) => `${n} ${n === 1 ? 'host was' : 'hosts were'}`
      assert.match(
        annotation.message,
        new RegExp(
          `^lost mid-run \\(connection lost: jump host 127\\.0\\.8\\.4:\\d+[^)]*\\) and could not be reconnected: refused: .*; ${host(attempted)} attempted through it, ${host(notAttempted)} not$`,
        ),
      )
      assert.match(
        run.stdout,
        /^ssh-fanout: jump host 127\.0\.8\.4:\d+ unavailable: refused: .* \(reconnecting after the session was lost mid-run\); no further host is attempted through it$/m,
      )
    } finally {
      pipe.release()
      await door.close()
    }
  })

  // ---- issue 15, item 16 ------------------------------------------------------------------------

  it('hosts skipped because an earlier batch failed keep the batch they were planned in (results and summary)', async () => {
    const run = await runAction({ hosts: targets(5), ...login(), fingerprints: fingerprints(), 'batch-size': '1, 50%', command: 'exit 3' })
    assert.equal(run.code, 1)
    assert.deepEqual(
      results(run).map((r) => [r.status, r.batch]),
      [
        ['failed', 1],
        ['skipped', 2],
        ['skipped', 2],
        ['skipped', 2],
        ['skipped', 3],
      ],
    )
    assert.match(commandsOf(run, 'error').at(-1)!.message, /4 hosts were not started \(later batches\)/)
    // The Batch column names the planned batch of each skipped row.
    assert.match(run.summary, /<tr><td>2<\/td><td><code>[^<]*<\/code> \(3 hosts\)<\/td><td>skipped<\/td>/)
    assert.match(run.summary, /<tr><td>3<\/td><td><code>[^<]*<\/code><\/td><td>skipped<\/td>/)
  })

  // ---- issue 15, item 18 ------------------------------------------------------------------------

  it('all outputs together stay within one budget counted in UTF-16 code units (ASCII results that fit 900,000 UTF-8 bytes are trimmed)', async () => {
    // 40 hosts × 20 lines of 800 characters: a results output of about 650,000 ASCII characters, 1.3 MB as GitHub counts it.
    const run = await runAction(
      {
        hosts: targets(TARGETS),
        ...login(),
        fingerprints: fingerprints(),
        command: `line=$(printf '%800s' '' | tr ' ' x); for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "$i $line"; done`,
      },
      { timeoutMs: 300_000 },
    )
    assert.equal(run.code, 0, run.stdout.slice(-2000))
    const units = Object.values(run.outputs).reduce((n, value) => n + value.length, 0)
    assert.ok(units <= OUTPUTS_BUDGET, `all outputs: ${units} UTF-16 code units`)
    assert.ok(units * 2 < 1_000_000, `${units * 2} bytes as UTF-16`)
    const res = results(run)
    assert.equal(res.length, TARGETS)
    const lines = String(res[0].output).split('\n').length
    assert.ok(lines < 20, `${lines} output lines kept`)
    assert.equal(run.outputs['succeeded'].split('\n').length, TARGETS, 'the lists stay whole')
    assert.notEqual(run.outputs['results-file'], '')
    assert.match(run.summary, new RegExp(`keeps only the last ${lines} lines per host`))
  })

  // ---- issue 15, item 20 ------------------------------------------------------------------------

  it('several users on one host and port are labelled user@host:port everywhere; log-dir names follow host order', async () => {
    const pipe = fifo()
    const workspace = mkdtempSync(join(tmpdir(), 'ssh-fanout-ws-'))
    const at = `${target.host}:${target.port}`
    const [user, upper, stranger] = [fleet.username, fleet.username.toUpperCase(), 'no-such-user-here']
    try {
      // The first host finishes last: its command waits until the log shows the other two (refused logins) finished.
      let seen = ''
      const released: { write: Promise<void> | null } = { write: null }
      const run = await runAction(
        {
          hosts: [`${user}@${at}`, `${upper}@${at}`, `${stranger}@${at}`].join('\n'),
          ...login(),
          fingerprints: fingerprints(),
          'log-dir': 'logs',
          command: `echo "the first host ran"; cat ${pipe.path}`,
        },
        {
          env: { GITHUB_WORKSPACE: workspace },
          onStdout: (text) => {
            seen += text
            if (released.write === null && (seen.match(/^::group::⛔ error /gm) ?? []).length === 2) released.write = writeFile(pipe.path, 'released\n')
          },
        },
      )
      await released.write
      assert.equal(run.code, 1, run.stdout)
      const labels = [`${user}@${at}`, `${upper}@${at}`, `${stranger}@${at}`]
      // Log groups, in finishing order: the two refused logins, then the first host.
      const titles = run.groups.map((g) => g.title)
      assert.equal(titles.length, 3, JSON.stringify(titles))
      assert.deepEqual(
        titles
          .slice(0, 2)
          .map((t) => /^⛔ error (\S+): /.exec(t)?.[1])
          .sort(),
        labels.slice(1).sort(),
      )
      assert.match(titles[2], new RegExp(`^✅ success ${re(labels[0])}: exit 0`))
      // Outputs, annotations and the summary.
      assert.equal(run.outputs.succeeded, labels[0])
      assert.equal(run.outputs.failed, `${labels[1]}\n${labels[2]}`)
      assert.deepEqual(
        results(run).map((r) => [r.host, r.username]),
        [
          [target.host, user],
          [target.host, upper],
          [target.host, stranger],
        ],
      )
      for (const label of labels.slice(1))
        assert.ok(
          commandsOf(run, 'error').some((c) => c.properties.title === `ssh-fanout: ${label} error`),
          label,
        )
      for (const label of labels) assert.ok(run.summary.includes(label), label)
      // log-dir: names in host order (the first host keeps the plain name though it finished last); `-2` for the name
      // that differs only in case (one file on a case-insensitive file system).
      const base = (u: string) => `${u}_${target.host}_${target.port}`
      assert.deepEqual(
        readdirSync(join(workspace, 'logs')).sort(),
        [`${base(user)}.log`, `${base(upper)}-2.log`, `${base(stranger)}.log`, 'results.json', 'run.json'].sort(),
      )
      assert.equal(readFileSync(join(workspace, 'logs', `${base(user)}.log`), 'utf8'), 'the first host ran\nreleased\n')
      assert.equal(readFileSync(join(workspace, 'logs', `${base(upper)}-2.log`), 'utf8'), '')
    } finally {
      pipe.release()
      rmSync(workspace, { recursive: true, force: true })
    }
  })

  // ---- issue 15, item 24 ------------------------------------------------------------------------

  it('a host cannot close its log group or draw a forged one: every ##[ in its output is broken in the job log, kept in log-dir', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'ssh-fanout-ws-'))
    chmodSync(workspace, 0o755)
    const forged = [
      '##[endgroup]',
      '##[group]✅ success db1.example.com: exit 0 (1.0 s)',
      '##[error]forged error line',
      '  ##[warning]indented',
      '\u001b[31m##[notice]after a colour\u001b[0m',
      'mid-line ##[command]text',
      '###[section]three hashes',
    ]
    const printed = `${forged.join('\n')}\n`
    try {
      writeFileSync(join(workspace, 'forged.txt'), printed, { mode: 0o644 })
      const run = await runAction(
        { hosts: targets(1), ...login(), fingerprints: fingerprints(), 'log-dir': 'logs', command: `cat ${join(workspace, 'forged.txt')}` },
        { env: { GITHUB_WORKSPACE: workspace } },
      )
      assert.equal(run.code, 0, run.stdout)
      // Nothing in the job log starts (or holds) a marker the log viewer draws.
      assert.ok(!run.stdout.includes('##['), run.stdout)
      assert.equal(run.groups.length, 1)
      assert.deepEqual(
        run.groups[0].lines,
        forged.map((line) => line.replace(/##\[/g, '## [')),
      )
      // log-dir keeps the bytes the host sent.
      const file = readdirSync(join(workspace, 'logs')).find((f) => f.endsWith('.log'))!
      assert.equal(readFileSync(join(workspace, 'logs', file), 'utf8'), printed)
    } finally {
      rmSync(workspace, { recursive: true, force: true })
    }
  })
})
