/**
 * The sweep that stops a root session's command (OpenSSH ignores its signal requests) kills by
 * the command's run token, never by SSH_CONNECTION: that 4-tuple recurs (source ports come
 * round; behind a bastion every target sees the bastion's address).
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { OutputSpool, SpoolDir } from '../../src/engine/output/spool.js'
import { runSession, type SessionOutcome } from '../../src/engine/host/session.js'
import { knownHostsPolicy, target } from '../helpers/engine.js'
import { processGone } from '../helpers/net.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'

describe(
  'the sweep kills by the run token (root session, real sshd)',
  { skip: (!requireSshd() && 'sshd not installed') || (process.getuid?.() !== 0 && 'needs root') },
  () => {
    let root: Sshd
    before(async () => {
      root = await startSshd({})
    })
    after(async () => {
      await root?.stop()
    })

    // A timeout stops the command the same way (stopCommand); cancelling lets the test choose the moment.
    it("cancelled: the command's processes die; an unrelated process with the same SSH_CONNECTION survives, and so does another run's command", async () => {
      const dir = new SpoolDir()
      const controller = new AbortController()
      let text = ''
      // Set from the output hook (a holder, so that the checks below see what it set).
      const started: { decoy?: ChildProcess; otherRun?: ChildProcess; running?: Promise<unknown> } = {}
      const output = new OutputSpool(dir.spool(1 << 20).path, 1 << 20)
      const write = output.write.bind(output)
      output.write = (chunk: Buffer) => {
        text += chunk.toString()
        const conn = /^conn=(.+)$/m.exec(text)?.[1]
        if (conn && /^child=\d+$/m.test(text) && !started.decoy) {
          // Started by the test, outside sshd: it has the session's SSH_CONNECTION, not its token.
          const decoy = spawn('sleep', ['300'], { stdio: 'ignore', env: { PATH: process.env.PATH, SSH_CONNECTION: conn, SSH_FANOUT_RUN: '0'.repeat(32) } })
          // Another run's command, as its shell runs it: the assignment of its own token in the shell's command line.
          const other = `SSH_FANOUT_RUN='${'0'.repeat(32)}'\nexport SSH_FANOUT_RUN\nsleep 300; :`
          const otherRun = spawn('sh', ['-c', other], { stdio: 'ignore', env: { PATH: process.env.PATH, SSH_CONNECTION: conn } })
          Object.assign(started, { decoy, otherRun })
          const spawned = (child: ChildProcess) => new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject))
          started.running = Promise.all([spawned(decoy), spawned(otherRun)])
          // The stop begins once the decoy runs; the sweep follows after the grace period.
          void started.running.then(() => controller.abort())
        }
        return write(chunk)
      }
      let outcome: SessionOutcome
      try {
        outcome = await runSession({
          target: target(root.host, root.port, root.username),
          command: `echo "conn=$SSH_CONNECTION"; echo pid=$$; sleep 120 >/dev/null 2>&1 & echo child=$!; wait`,
          credentials: { privateKey: root.clientKey },
          hostKeys: knownHostsPolicy(root.knownHosts),
          connectTimeoutMs: 10_000,
          commandTimeoutMs: 0,
          cancelGraceMs: 200,
          output,
          signal: controller.signal,
        })
        await started.running
        assert.equal(outcome.status, 'cancelled', JSON.stringify(outcome))
        assert.match(outcome.error!, /stopped on the host \(TERM, then KILL\)$/)
        const pids = [...text.matchAll(/^(?:pid|child)=(\d+)$/gm)].map((m) => Number(m[1]))
        assert.equal(pids.length, 2, text)
        assert.deepEqual(
          pids.filter((pid) => !processGone(pid)),
          [],
          "the command's processes are still running",
        )
        assert.ok(started.decoy?.pid, text)
        assert.ok(!processGone(started.decoy.pid), 'the sweep killed a process that only shared SSH_CONNECTION')
        assert.ok(started.otherRun?.pid && !processGone(started.otherRun.pid), "the sweep killed another run's command")
        assert.ok(!JSON.stringify(outcome).includes('SSH_FANOUT_RUN'), 'the outcome does not name the token')
      } finally {
        started.decoy?.kill('SIGKILL')
        started.otherRun?.kill('SIGKILL')
        await output.dispose()
        dir.remove()
      }
    })

    it("cancelled: a command that is only its shell (a loop of builtins) dies too, though the token is not in the shell's own /proc environment", async () => {
      // The shell exported the token: /proc shows the environment a process started with, so the sweep finds the
      // shell by its command line, which holds the token's assignment.
      const dir = new SpoolDir()
      const controller = new AbortController()
      let text = ''
      const output = new OutputSpool(dir.spool(1 << 20).path, 1 << 20)
      const write = output.write.bind(output)
      output.write = (chunk: Buffer) => {
        text += chunk.toString()
        if (/^pid=\d+$/m.test(text)) controller.abort()
        return write(chunk)
      }
      try {
        const outcome = await runSession({
          target: target(root.host, root.port, root.username),
          command: 'echo pid=$$; while :; do :; done',
          credentials: { privateKey: root.clientKey },
          hostKeys: knownHostsPolicy(root.knownHosts),
          connectTimeoutMs: 10_000,
          commandTimeoutMs: 0,
          cancelGraceMs: 200,
          output,
          signal: controller.signal,
        })
        assert.equal(outcome.status, 'cancelled', JSON.stringify(outcome))
        assert.match(outcome.error!, /stopped on the host \(TERM, then KILL\)$/)
        const pid = Number(/^pid=(\d+)$/m.exec(text)![1])
        assert.ok(processGone(pid), `the shell ${pid} is still running`)
      } finally {
        await output.dispose()
        dir.remove()
      }
    })
  },
)
