/**
 * Secrets (here the password) printed by a host, through the built action: the runner masks
 * whole values, so no cut we make may leave a part of one (log head/tail, results lines).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { results, runAction } from '../helpers/action.js'
import { startFakeServer } from '../helpers/ssh2-server.js'

// Letters that appear nowhere else in the log.
const SECRET = 'QZXJWVQZYXJW'

/** What the runner shows: each line with whole secrets masked. */
function runnerView(text: string): string {
  return text
    .split('\n')
    .map((l) => l.split(SECRET).join('***'))
    .join('\n')
}

function partOfSecret(text: string): string | null {
  for (let n = 3; n <= SECRET.length; n++) {
    for (let i = 0; i + n <= SECRET.length; i++) if (text.includes(SECRET.slice(i, i + n))) return SECRET.slice(i, i + n)
  }
  return null
}

describe('secrets cut by max-output (built action)', () => {
  it('neither log cut splits the password, and the results output masks it', async () => {
    // max-output 1KB: the head is bytes 0-511, the tail the last 512. One secret straddles byte 512,
    // another the first byte of the tail.
    const output = `${'a'.repeat(507)}${SECRET}${'b'.repeat(1000)}${SECRET}${'c'.repeat(504)}\n`
    const server = await startFakeServer({ auth: { password: SECRET }, onExec: (_c, s) => (s.write(output), s.exit(0), s.end()) })
    try {
      const run = await runAction({
        hosts: `${server.host}:${server.port}`,
        'known-hosts': server.hostKeyPublic.knownHostsLine,
        username: 'u',
        password: SECRET,
        command: 'print',
        'max-output': '1KB',
      })
      assert.equal(run.code, 0, run.stdout)
      assert.match(run.stdout, /bytes of output left out/)
      const shown = runnerView(run.stdout)
      assert.equal(partOfSecret(shown), null, shown)
      const out = String(results(run)[0].output)
      assert.ok(out.includes('***'), out)
      assert.equal(partOfSecret(out), null, out)
      assert.equal(partOfSecret(runnerView(run.summary)), null)
    } finally {
      await server.close()
    }
  })
})
