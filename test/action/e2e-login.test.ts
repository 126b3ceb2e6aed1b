/**
 * The built action, run as the runner runs it, on the login and the stop: the sweep of a root
 * session, which kills the command's processes and nothing that merely shares its SSH_CONNECTION.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, watch } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { results, runAction } from '../helpers/action.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { processGone } from '../helpers/net.js'
import { requireSshd } from '../helpers/sshd.js'

describe(
  'the sweep of a cancelled root session through the built action',
  { skip: (!requireSshd() && 'sshd not installed') || (process.getuid?.() !== 0 && 'needs root') },
  () => {
    let fleet: Fleet
    let dir: string
    before(async () => {
      fleet = await startFleet(['127.0.0.1'], { user: 'root' })
      dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-e2e-sweep-'))
    })
    after(async () => {
      await fleet?.stop()
      rmSync(dir, { recursive: true, force: true })
    })

    it("kills the command's processes, and spares an unrelated process with the same SSH_CONNECTION", async () => {
      // The command leaves its SSH_CONNECTION in a file (renamed into place); once it is there, an unrelated
      // process with that value starts, then the job is cancelled.
      const file = join(dir, 'conn')
      const watcher = watch(dir)
      const connection = new Promise<string>((resolve) => watcher.on('change', () => existsSync(file) && resolve(readFileSync(file, 'utf8').trim())))
      let decoy: ChildProcess | undefined
      try {
        const run = await runAction(
          {
            hosts: fleet.hosts[0],
            username: fleet.username,
            'private-key': fleet.clientKey,
            'known-hosts': fleet.knownHosts,
            command: `echo pid=$$; sleep 120 >/dev/null 2>&1 & echo child=$!; echo "$SSH_CONNECTION" > ${file}.tmp && mv ${file}.tmp ${file}; wait`,
          },
          {
            onSpawn: (child) =>
              void connection.then((conn) => {
                decoy = spawn('sleep', ['300'], { stdio: 'ignore', env: { PATH: process.env.PATH, SSH_CONNECTION: conn } })
                decoy.once('spawn', () => child.kill('SIGINT'))
              }),
          },
        )
        const [r] = results(run)
        assert.equal(r.status, 'cancelled', JSON.stringify(r))
        assert.match(String(r.error), /stopped on the host \(TERM, then KILL\)$/)
        const pids = [...String(r.output).matchAll(/^(?:pid|child)=(\d+)$/gm)].map((m) => Number(m[1]))
        assert.equal(pids.length, 2, String(r.output))
        for (const pid of pids) assert.ok(processGone(pid), `remote process ${pid} is still running`)
        assert.ok(decoy?.pid, 'the unrelated process was started')
        assert.ok(!processGone(decoy.pid), 'the sweep killed a process that only shared SSH_CONNECTION')
        assert.ok(!run.stdout.includes('SSH_FANOUT_RUN'), 'the log does not show the run token')
      } finally {
        watcher.close()
        decoy?.kill('SIGKILL')
      }
    })
  },
)
