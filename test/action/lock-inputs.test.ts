/** The fleet lock's inputs (lock, lock-host, lock-wait, github-token) as getSettings reads them. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { getSettings, InputError, type InputReader, type Settings } from '../../src/action/inputs.js'

const FINGERPRINT = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`
const BASE: Record<string, string> = { hosts: 'web1, web2:2222, ops@web3', command: 'deploy', username: 'deploy', password: 'pw', fingerprints: FINGERPRINT }
const reader =
  (inputs: Record<string, string>): InputReader =>
  (name) =>
    inputs[name] ?? ''
const lock = (overrides: Record<string, string>): Settings['lock'] => getSettings(reader({ ...BASE, ...overrides }), {}).lock

function rejects(overrides: Record<string, string>, input: string): string {
  let caught: unknown
  try {
    lock(overrides)
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`)
  assert.equal(caught.input, input, caught.message)
  return caught.message
}

describe('lock inputs', () => {
  it('no lock: null, whatever lock-wait and github-token say (the runner passes their defaults)', () => {
    assert.equal(lock({ 'lock-wait': '0', 'github-token': 'x' }), null)
  })

  it('a lock: on the first host of the list before sharding, lock-wait 0 by default, the token kept', () => {
    const l = lock({ lock: 'deploy-prod', shard: '3/3', 'github-token': 'tok' })!
    assert.equal(l.name, 'deploy-prod')
    assert.equal(l.host.label, 'web1')
    assert.equal(l.waitMs, 0)
    assert.equal(l.githubToken, 'tok')
    assert.equal(lock({ lock: 'a', 'lock-wait': '10m' })!.waitMs, 600_000)
  })

  it('lock-host as the list names it, or by host:port and user@host', () => {
    assert.equal(lock({ lock: 'a', 'lock-host': 'web2:2222' })!.host.label, 'web2:2222')
    assert.equal(lock({ lock: 'a', 'lock-host': 'web2' })!.host.label, 'web2:2222')
    assert.equal(lock({ lock: 'a', 'lock-host': 'ops@web3' })!.host.label, 'web3')
    assert.equal(lock({ lock: 'a', 'lock-host': 'web1:22' })!.host.label, 'web1')
  })

  it('refuses bad names (., .., no letter or digit, slashes, too long), naming lock', () => {
    for (const name of ['.', '..', '---', 'a/b', 'x y', 'a'.repeat(65), '~']) assert.match(rejects({ lock: name }, 'lock'), /is not a lock name; use 1 to 64/)
    assert.equal(lock({ lock: 'a'.repeat(64) })!.name.length, 64)
    assert.equal(lock({ lock: '.deploy_1' })!.name, '.deploy_1')
  })

  it('refuses a lock-host not in the list, a bad lock-wait, and lock-host without lock', () => {
    assert.match(
      rejects({ lock: 'a', 'lock-host': 'db1' }, 'lock-host'),
      /"db1" is not a host of the list; give one of its hosts \(e\.g\. web1, web2:2222, web3\)/,
    )
    assert.match(rejects({ lock: 'a', 'lock-wait': 'soon' }, 'lock-wait'), /is not a duration/)
    assert.match(rejects({ 'lock-host': 'web1' }, 'lock-host'), /is set but lock is empty/)
  })
})
