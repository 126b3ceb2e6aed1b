/**
 * The built action, run as the runner runs it, on the login and the stop: a host that hangs up on
 * a channel opened before the login (as Dropbear does) when the key is refused and the password
 * would do; real Dropbear; and the sweep of a root session, which kills the command's processes
 * and nothing that merely shares its SSH_CONNECTION.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, watch } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { results, runAction } from '../helpers/action.js'
import { loginUser, startFleet, type Fleet } from '../helpers/fleet.js'
import { haveDropbear, startAgent, startDropbear, startPickyServer } from '../helpers/login-servers.js'
import { processGone } from '../helpers/net.js'
import { generateClientKey } from '../helpers/ssh2-server.js'
import { requireSshd } from '../helpers/sshd.js'

describe('the short login against hosts that hang up on a channel opened before the login', () => {
  it('key refused, password accepted: the host succeeds at the first attempt, on one connection', async () => {
    const server = await startPickyServer({ early: 'hang up' })
    try {
      const run = await runAction({
        hosts: `${server.host}:${server.port}`,
        username: 'deploy',
        'private-key': generateClientKey().private,
        password: 'pw',
        'known-hosts': server.knownHostsLine,
        command: 'x',
      })
      const [r] = results(run)
      assert.equal(r.status, 'success', JSON.stringify(r))
      assert.equal(r.attempts, 1)
      assert.equal(r.output, 'ok')
      assert.equal(run.code, 0, run.stdout)
      assert.equal(server.seen.length, 1, JSON.stringify(server.seen))
    } finally {
      await server.close()
    }
  })
})

describe('real Dropbear through the built action', { skip: !haveDropbear() && 'dropbear not installed' }, () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-e2e-dropbear-'))
  })
  after(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('key and agent refused: the host ends with the authentication failure naming both, at the first attempt', async () => {
    const dropbear = await startDropbear(dir)
    const agent = await startAgent(dir, generateClientKey().private)
    try {
      const username = (await loginUser()) ?? userInfo().username
      const run = await runAction(
        {
          hosts: `${dropbear.host}:${dropbear.port}`,
          username,
          'private-key': generateClientKey().private,
          'known-hosts': dropbear.knownHostsLine,
          command: 'echo ran',
        },
        { env: { SSH_AUTH_SOCK: agent.socket } },
      )
      const [r] = results(run)
      assert.equal(r.status, 'error', JSON.stringify(r))
      assert.match(String(r.error), new RegExp(`^authentication failed for user "${username}" \\(tried: key, agent; the server offers: publickey`))
      assert.equal(r.attempts, 1)
      assert.equal(dropbear.accepted, 1)
    } finally {
      agent.stop()
      await dropbear.close()
    }
  })
})

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
