/**
 * The built bundle, run as the runner runs it, with hostile hosts: cancellation, floods,
 * binary output, many failures (annotation cap), and a mixed fleet.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { startFakeFleet, startFleet, type Fleet } from '../helpers/fleet.js'
import { closedPort, processGone, tarpit } from '../helpers/net.js'
import type { FakeServerOptions } from '../helpers/ssh2-server.js'
import { requireSshd } from '../helpers/sshd.js'
import { whenDirSettles } from '../helpers/wait.js'

async function fakeFleet(n: number, opts: FakeServerOptions) {
  const f = await startFakeFleet(n, opts)
  return { ...f, hosts: f.hosts.join('\n') }
}

describe('cancellation of the built action (SIGINT, as the runner sends it)', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let userFleet: Fleet
  let rootFleet: Fleet | null = null
  before(async () => {
    userFleet = await startFleet(['127.0.0.1', '127.0.0.2', '127.0.0.3'])
    // OpenSSH ignores signal requests in root sessions: the action must stop those commands too.
    if (process.getuid?.() === 0) rootFleet = await startFleet(['127.0.0.4', '127.0.0.5', '127.0.0.6'], { user: 'root' })
  })
  after(async () => {
    await Promise.all([userFleet?.stop(), rootFleet?.stop()])
  })

  const cases = [
    ['SIGINT', 'an unprivileged user'],
    ['SIGTERM', 'an unprivileged user'],
    ['SIGINT', 'root'],
  ] as const
  for (const [signal, who] of cases) {
    it(
      `${signal}, logged in as ${who}: stops running commands on their hosts, marks cancelled/skipped, writes outputs and summary, exits non-zero within 5 s`,
      { skip: who === 'root' && process.getuid?.() !== 0 && 'needs root' },
      async () => {
        const fleet = who === 'root' ? rootFleet! : userFleet
        // each command leaves a file named after its shell once it printed its pids: the signal goes once both run
        const started = mkdtempSync(join(tmpdir(), 'ssh-fanout-started-'))
        chmodSync(started, 0o777)
        const running = whenDirSettles(started, () => readdirSync(started).length === 2)
        const run = await runAction(
          {
            hosts: fleet.hosts.join('\n'),
            username: fleet.username,
            'private-key': fleet.clientKey,
            'known-hosts': fleet.knownHosts,
            concurrency: '2',
            command: `echo pid=$$; sleep 120 & echo child=$!; : > ${started}/$$; wait`,
          },
          { interruptWhen: running, interruptSignal: signal },
        ).finally(() => rmSync(started, { recursive: true, force: true }))
        assert.equal(await running, true, 'both commands started')
        const sinceSignal = run.exitAfterSignalMs
        assert.ok(sinceSignal !== null, run.stdout)
        assert.notEqual(run.code, 0)
        assert.ok(sinceSignal < 5_000, `exited ${sinceSignal} ms after SIGINT`)
        const res = results(run)
        assert.deepEqual(
          res.map((r) => r.status),
          ['cancelled', 'cancelled', 'skipped'],
        )
        assert.equal(run.outputs['failed-count'], '2')
        assert.match(run.summary, /cancelled/)
        assert.equal(commandsOf(run, 'endgroup').length, run.groups.length)
        // One group per host, the skipped one included.
        assert.equal(run.groups.length, 3)
        assert.equal(run.groups.filter((g) => /^⏭️ skipped .*: not started: the job was cancelled$/.test(g.title)).length, 1, run.stdout)
        assert.deepEqual(run.leftoverTempFiles, [], 'output spools under RUNNER_TEMP are removed, even when cancelled')
        const pids = res
          .flatMap((r) => String(r.output).split('\n'))
          .flatMap((l) => /^(?:pid|child)=(\d+)$/.exec(l)?.[1] ?? [])
          .map(Number)
        assert.equal(pids.length, 4, JSON.stringify(res))
        // The action ends a host only once its command and the command's children are gone (the sweep waits for
        // their death): checked right after the action exited, without waiting.
        for (const pid of pids) assert.ok(processGone(pid), `remote process ${pid} is still running`)
        const failure = commandsOf(run, 'error').at(-1)
        assert.match(failure!.message, /cancelled/)
      },
    )
  }
})

describe('hostile hosts against the built action', () => {
  it('aggregates error annotations past GitHub cap of 10 per step (setFailed included)', async () => {
    const f = await fakeFleet(12, { onExec: (_c, s) => (s.exit(1), s.end()) })
    try {
      const run = await runAction({
        hosts: f.hosts,
        username: 'u',
        password: 'pw',
        'known-hosts': f.knownHosts,
        command: 'x',
        'fail-fast': 'false',
        concurrency: '12',
      })
      assert.equal(run.code, 1)
      const errors = commandsOf(run, 'error')
      assert.equal(errors.length, 10)
      assert.match(errors[8].message, /4 more hosts failed/)
      assert.match(errors[9].message, /12 of 12 hosts failed/)
      assert.equal(results(run).length, 12)
    } finally {
      await f.close()
    }
  })

  it('a flood is cut to max-output with head, notice and tail, and every group still closes', async () => {
    const total = 3 * 1024 * 1024
    let sentAll = 0
    let onSentAll: () => void = () => undefined
    const floods = new Promise<void>((resolve) => (onSentAll = resolve))
    const f = await fakeFleet(2, {
      onExec: (_c, stream) => {
        let sent = 0
        stream.resume() // (read the client's end of stdin, or the channel never closes here)
        const line = Buffer.from(`${'z'.repeat(99)}\n`)
        const block = Buffer.concat(Array.from({ length: 640 }, () => line))
        const pump = () => {
          while (sent < total) {
            sent += block.length
            if (!stream.write(block)) return void stream.once('drain', pump)
          }
          stream.write('::error::last line\nTHE END\n')
          stream.exit(0)
          stream.end()
          // the client closes the channel once it has the whole output and the exit status
          stream.once('close', () => ++sentAll === 2 && onSentAll())
        }
        pump()
      },
    })
    try {
      // The runner's stdout pipe fills up while nobody reads it: nothing may be lost (EAGAIN) or reordered. Nothing is
      // read until both hosts sent all their output: the action then has a 2 MB log to write into a 64 KiB pipe.
      const run = await runAction(
        { hosts: f.hosts, username: 'u', password: 'pw', 'known-hosts': f.knownHosts, command: 'flood', 'max-output': '1MB' },
        { pauseStdoutUntil: floods },
      )
      assert.equal(run.runningWhenStdoutResumed, true, 'the log did not fit in the pipe, so the action had to wait for it to drain')
      assert.equal(run.code, 0, run.stderr)
      assert.equal(run.groups.length, 2)
      assert.equal(commandsOf(run, 'endgroup').length, 2)
      assert.equal(commandsOf(run, 'error').length, 0)
      for (const g of run.groups) {
        const text = g.lines.join('\n')
        assert.ok(text.length < 1024 * 1024 + 1024, `group has ${text.length} chars`)
        assert.ok(text.length > 1000 * 1024, `group has ${text.length} chars`)
        assert.match(text, /bytes of output left out/)
        assert.ok(g.lines.includes('THE END'))
      }
      for (const r of results(run)) assert.match(String(r.output), /THE END$/)
      assert.deepEqual(run.leftoverTempFiles, [], 'output spools under RUNNER_TEMP are removed')
      assert.match(run.stdout, /All 2 hosts succeeded\n$/)
    } finally {
      await f.close()
    }
  })

  it('binary, invalid UTF-8, CR and ANSI colour output break neither the log, the JSON nor the summary', async () => {
    const f = await fakeFleet(1, {
      onExec: (_c, s) => {
        s.write(Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x72, 0x65, 0x64, 0x1b, 0x5b, 0x30, 0x6d, 0x0d, 0x0a]))
        s.write('progress 10%\rprogress 100%\r\n<script>alert(1)</script>\n')
        s.stderr.write(Buffer.from([0xc3]))
        s.exit(3)
        s.end()
      },
    })
    try {
      const run = await runAction({ hosts: f.hosts, username: 'u', password: 'pw', 'known-hosts': f.knownHosts, command: 'x' })
      assert.equal(run.code, 1)
      const r = results(run)[0]
      assert.equal(r.status, 'failed')
      assert.equal(r.exitCode, 3)
      assert.match(String(r.output), /<script>/)
      assert.ok(!run.summary.includes('\u001b'), 'colour codes are stripped in the summary')
      assert.ok(!run.summary.includes('<script>'), 'output is HTML-escaped in the summary')
      assert.match(run.summary, /&lt;script&gt;/)
      assert.match(run.summary, /red/)
      assert.equal(commandsOf(run, 'endgroup').length, 1)
    } finally {
      await f.close()
    }
  })

  it('a mixed hostile fleet ends with exactly one result per host, in host order', async () => {
    const good = await fakeFleet(2, {})
    const hang = await fakeFleet(1, { onExec: (_c, s) => void s.resume() })
    const stall = await fakeFleet(1, { stall: 'auth' })
    const pit = await tarpit()
    const refused = await closedPort()
    const pitPort = pit.port
    try {
      const hosts = [good.servers[0], hang.servers[0], stall.servers[0]].map((s) => `${s.host}:${s.port}`)
      hosts.splice(1, 0, `127.0.0.1:${pitPort}`)
      // No host name that needs DNS: a query would leave the machine. Name resolution failures are covered by the engine tests.
      hosts.push(`${good.servers[1].host}:${good.servers[1].port}`, `127.0.0.1:${refused}`)
      const run = await runAction({
        hosts: hosts.join('\n'),
        username: 'u',
        password: 'pw',
        'known-hosts': [good.knownHosts, hang.knownHosts, stall.knownHosts].join('\n'),
        fingerprints: '',
        command: 'x',
        'connect-timeout': '1s',
        'command-timeout': '1s',
        retries: '0',
        'max-failures': '100%',
      })
      assert.equal(run.code, 0, run.stdout)
      const res = results(run)
      assert.equal(res.length, hosts.length)
      assert.deepEqual(
        res.map((r) => [r.status, String((r.error as string | null) ?? '').split(':')[0]]),
        [
          ['success', ''],
          ['error', 'connect timeout'],
          [
            'timeout',
            'command timed out after 1 s; TERM, then KILL sent, but the command had not ended when the session was closed, so it may still be running on the host',
          ],
          ['error', 'connect timeout'],
          ['success', ''],
          ['error', 'refused'],
        ],
      )
      assert.equal(run.groups.length, hosts.length)
      assert.equal(run.outputs['failed-count'], '4')
    } finally {
      await Promise.all([pit.close(), good.close(), hang.close(), stall.close()])
    }
  })
})
