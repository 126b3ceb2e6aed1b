import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fingerprintOf, hostKeyFromBlob, parseKnownHosts, type HostKey } from '../../src/engine/trust/known-hosts.js'
import type { HostTarget } from '../../src/engine/model.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'

interface Key {
  line: string
  key: HostKey
}

const keys: Key[] = []

before(() => {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-trust-'))
  try {
    for (const name of ['a', 'b']) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, name)])
      const [type, base64] = readFileSync(join(dir, `${name}.pub`), 'utf8')
        .trim()
        .split(' ')
      keys.push({ line: `${type} ${base64}`, key: hostKeyFromBlob(Buffer.from(base64, 'base64')) })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

const target = (host: string, port = 22): HostTarget => ({ host, port, username: 'deploy', label: host })

describe('hostKeyPolicy: @revoked', () => {
  it('refuses a revoked key even with strict-host-key-checking off, saying so', () => {
    const policy = hostKeyPolicy({ strict: false, knownHosts: parseKnownHosts(`@revoked * ${keys[0].line}\n`), fingerprints: [] })
    const reason = policy.reject(target('web1'), keys[0].key)
    assert.ok(reason?.includes('marked @revoked in known-hosts'), String(reason))
    assert.ok(reason?.includes('refused even with strict-host-key-checking: false'), String(reason))
    assert.equal(policy.reject(target('web1'), keys[1].key), null, 'checking off: any other key is accepted')
  })

  it('with checking off, revocation is scoped to the hosts its line names', () => {
    const policy = hostKeyPolicy({ strict: false, knownHosts: parseKnownHosts(`@revoked old.example.com ${keys[0].line}\n`), fingerprints: [] })
    assert.notEqual(policy.reject(target('old.example.com'), keys[0].key), null)
    assert.equal(policy.reject(target('new.example.com'), keys[0].key), null)
  })

  it('with checking on, a key revoked for another host is trusted through its own line', () => {
    const knownHosts = parseKnownHosts(`@revoked old.example.com ${keys[0].line}\nnew.example.com ${keys[0].line}\n`)
    const policy = hostKeyPolicy({ strict: true, knownHosts, fingerprints: [] })
    assert.equal(policy.reject(target('new.example.com'), keys[0].key), null)
    const reason = policy.reject(target('old.example.com'), keys[0].key)
    assert.ok(reason?.includes('marked @revoked in known-hosts') && !reason.includes('even with'), String(reason))
  })

  it('a pinned fingerprint does not override a revocation', () => {
    const knownHosts = parseKnownHosts(`@revoked * ${keys[0].line}\n`)
    const policy = hostKeyPolicy({ strict: true, knownHosts, fingerprints: [{ pattern: null, fingerprint: fingerprintOf(keys[0].key.blob) }] })
    assert.ok(policy.reject(target('web1'), keys[0].key)?.includes('@revoked'))
  })
})
