/** One log group per host, as the README promises: hosts skipped by fail-fast get theirs too. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { startFakeFleet } from '../helpers/fleet.js'

describe('log groups (built action)', () => {
  it('hosts skipped by fail-fast get a group each, saying why once (in the title), and the groups close', async () => {
    const fleet = await startFakeFleet(3, { onExec: (_c, s) => (s.stderr.write('boom\n'), s.exit(1), s.end()) })
    try {
      const run = await runAction({
        hosts: fleet.hosts.join('\n'),
        username: 'u',
        password: 'pw',
        'known-hosts': fleet.knownHosts,
        command: 'x',
        concurrency: '1',
      })
      assert.deepEqual(
        results(run).map((r) => r.status),
        ['failed', 'skipped', 'skipped'],
      )
      assert.equal(run.groups.length, 3, run.stdout)
      assert.equal(commandsOf(run, 'endgroup').length, 3)
      assert.deepEqual(
        run.groups.map((g) => g.title.split(' ')[1]),
        ['failed', 'skipped', 'skipped'],
      )
      for (const [i, g] of run.groups.slice(1).entries()) {
        // The reason is said once, in the title: the group has nothing else to say.
        assert.equal(g.title, `⏭️ skipped ${fleet.hosts[i + 1]}: not started: max-failures was exceeded and fail-fast is on`)
        assert.deepEqual(
          g.lines.filter((l) => l !== ''),
          [],
        )
      }
    } finally {
      await fleet.close()
    }
  })
})
