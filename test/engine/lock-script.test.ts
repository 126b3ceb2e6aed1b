/**
 * The lock script (src/engine/lock/script.ts) run by local shells (dash, posh, sh) with a private
 * HOME: take, join, held, takeover and release, and many jobs joining and releasing at once (the
 * guard: no join is lost to a concurrent last release).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOCK_SCRIPT, type LockOp } from '../../src/engine/lock/script.js'

const SHELLS = ['/bin/sh', '/usr/bin/dash', '/usr/bin/posh'].filter((s) => existsSync(s))

function op(shell: string, home: string, o: LockOp, a: { name?: string; key?: string; token: string; record?: string; old?: string }): Promise<string> {
  const args = ['-c', LOCK_SCRIPT, 'lock', o, a.name ?? 'L', a.key ?? 'k', a.token, a.record ?? '{"runId":"1"}', a.old ?? '', 'M', 'M']
  return new Promise((resolve, reject) =>
    execFile(shell, args, { env: { HOME: home, PATH: process.env.PATH } }, (err, stdout) => (err ? reject(new Error(err.message)) : resolve(stdout))),
  )
}
/** The outcome word(s) on the marker line. */
const outcome = (stdout: string) => /^MM (.*)$/m.exec(stdout)?.[1] ?? `no marker line in ${JSON.stringify(stdout)}`

for (const shell of SHELLS) {
  describe(`lock script under ${shell}`, () => {
    it('take, join (same key), held (another key, with its record), release to the last holder', async () => {
      const home = mkdtempSync(join(tmpdir(), 'fleet-lock-script-'))
      try {
        assert.equal(outcome(await op(shell, home, 'take', { token: 't1' })), 'taken')
        assert.equal(outcome(await op(shell, home, 'take', { token: 't2' })), 'joined')
        const held = await op(shell, home, 'take', { key: 'other', token: 't3' })
        assert.equal(outcome(held), 'held t1')
        assert.match(held, /\{"runId":"1"\}/)
        assert.equal(outcome(await op(shell, home, 'release', { token: 't3' })), 'notheld')
        assert.equal(outcome(await op(shell, home, 'release', { token: 't1' })), 'left')
        assert.equal(outcome(await op(shell, home, 'release', { token: 't2' })), 'released')
        assert.deepEqual(readdirSync(join(home, '.ssh-fanout/locks')), [])
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    })

    it('takeover replaces the lock it judged stale, and not one taken since', async () => {
      const home = mkdtempSync(join(tmpdir(), 'fleet-lock-script-'))
      try {
        await op(shell, home, 'take', { key: 'old', token: 'o1' })
        assert.equal(outcome(await op(shell, home, 'takeover', { key: 'new', token: 'n1', old: 'someone-else' })), 'held o1')
        assert.equal(outcome(await op(shell, home, 'takeover', { key: 'new', token: 'n1', old: 'o1' })), 'taken')
        assert.equal(outcome(await op(shell, home, 'release', { token: 'o1' })), 'notheld')
        assert.equal(outcome(await op(shell, home, 'release', { token: 'n1' })), 'released')
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    })

    it('20 jobs joining while others release: every join that answered joined or taken holds the lock until it releases', async () => {
      const home = mkdtempSync(join(tmpdir(), 'fleet-lock-script-'))
      try {
        const tokens = Array.from({ length: 20 }, (_, i) => `t${i}`)
        // each job takes (or joins), then at once releases; the last release must leave nothing behind,
        // and no release may find its own holder file gone (a join lost to a concurrent removal)
        const ends = await Promise.all(
          tokens.map(async (token) => {
            const took = outcome(await op(shell, home, 'take', { token }))
            assert.ok(took === 'taken' || took === 'joined', took)
            return outcome(await op(shell, home, 'release', { token }))
          }),
        )
        assert.ok(
          ends.every((e) => e === 'left' || e === 'released'),
          ends.join(','),
        )
        assert.ok(ends.includes('released'))
        assert.deepEqual(readdirSync(join(home, '.ssh-fanout/locks')), [])
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    })
  })
}
