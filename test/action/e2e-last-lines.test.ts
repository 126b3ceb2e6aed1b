/**
 * The built bundle against real sshd: a failed host's last stderr lines, printed just before it
 * exits, reach the log group, `results[].output` and the summary on every host.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { results, runAction } from '../helpers/action.js'
import { startFleet, type Fleet } from '../helpers/fleet.js'
import { requireSshd } from '../helpers/sshd.js'

describe('the last lines before exit, through the built action', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let fleet: Fleet
  before(async () => {
    fleet = await startFleet(['127.0.0.7', '127.0.0.8', '127.0.0.9', '127.0.0.10'])
  })
  after(async () => {
    await fleet?.stop()
  })

  it("keeps a failed host's final stderr line in the log group, results[].output and the summary, on every host", async () => {
    const run = await runAction({
      hosts: fleet.hosts.join('\n'),
      username: fleet.username,
      'private-key': fleet.clientKey,
      'known-hosts': fleet.knownHosts,
      'max-failures': '100%',
      command: 'seq 1 3000 >&2; echo final-error-line >&2; exit 1',
    })
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const res = results(run)
    assert.deepEqual(
      res.map((r) => [r.status, r.exitCode]),
      Array.from({ length: 4 }, () => ['failed', 1]),
    )
    for (const r of res) assert.match(String(r.output), /\n3000\nfinal-error-line$/, String(r.output))
    assert.equal(run.groups.length, 4)
    for (const g of run.groups) {
      const lines = g.lines.filter((l) => l !== '')
      assert.deepEqual(lines.slice(-2), ['3000', 'final-error-line'], `${g.title}: ${lines.slice(-3).join(' | ')}`)
    }
    // The four hosts printed the same tail, so the summary gathers them into one row that ends with it.
    const row = run.summary.split('\n').find((l) => l.includes('final-error-line'))
    assert.ok(row, run.summary)
    assert.match(row, /\(4 hosts\)/)
    for (const r of res) assert.ok(row.includes(`${String(r.host)}:${String(r.port)}`), row)
    assert.match(row, /3000&#10;final-error-line<\/pre>/)
  })
})
