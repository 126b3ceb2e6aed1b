/** The inventory, select and batch-by inputs as getSettings reads them (no host is contacted). */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULTS, getSettings, InputError, type InputReader, type Settings } from '../../src/action/inputs.js'
import * as inventoryReader from '../../src/action/inventory.js'

const FINGERPRINT = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`
const BASE: Record<string, string> = { command: 'deploy', username: 'deploy', password: 'pw', fingerprints: FINGERPRINT }
const INI = '[web]\nweb1 ansible_host=10.0.0.1 ansible_port=2222\nweb2 ansible_user=ops\n[db]\ndb1\n[web:vars]\nssh_fanout_jump_host=bastion:2200\n'

/** As the runner passes inputs: every default set. */
const reader =
  (inputs: Record<string, string>): InputReader =>
  (name) =>
    inputs[name] ?? DEFAULTS[name] ?? ''

const settings = (inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): Settings => getSettings(reader({ ...BASE, ...inputs }), env, inventoryReader)

function rejects(inputs: Record<string, string>, input: string, message: RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => settings(inputs, env),
    (err: unknown) => err instanceof InputError && err.input === input && message.test(err.message),
  )
}

describe('inventory inputs', () => {
  it('gives every selected host its own address, port, user and bastion, named by its inventory name', () => {
    const s = settings({ inventory: INI })
    assert.deepEqual(
      s.targets.map((t) => [t.label, t.host, t.port, t.username, t.inventory?.groups, t.inventory?.jump]),
      [
        ['web1', '10.0.0.1', 2222, 'deploy', ['web'], 'deploy@bastion:2200'],
        ['web2', 'web2', 22, 'ops', ['web'], 'deploy@bastion:2200'],
        ['db1', 'db1', 22, 'deploy', ['db'], undefined],
      ],
    )
    assert.deepEqual([...s.bastions.keys()], ['deploy@bastion:2200'])
    assert.equal(s.select, 'all')
    assert.equal(s.batchGroups, null)
  })

  it('select narrows and orders as Ansible does; batch-by group keeps the groups apart (and sharding keeps them in step)', () => {
    assert.deepEqual(
      settings({ inventory: INI, select: 'db:web1' }).targets.map((t) => t.label),
      ['db1', 'web1'],
    )
    const grouped = settings({ inventory: INI, select: 'db:web', 'batch-by': 'group' })
    assert.deepEqual(
      grouped.targets.map((t) => t.label),
      ['db1', 'web1', 'web2'],
    )
    assert.deepEqual(grouped.batchGroups, ['db', 'web', 'web'])
    const shards = ['1/2', '2/2'].map((shard) => settings({ inventory: INI, select: 'db:web', 'batch-by': 'group', shard }))
    assert.deepEqual(
      shards.map((s) => [s.targets.map((t) => t.label), s.batchGroups]),
      [
        [['db1'], ['db']],
        [
          ['web1', 'web2'],
          ['web', 'web'],
        ],
      ],
    )
  })

  it('reads the inventory from a file in the workspace when given a path', () => {
    const ws = mkdtempSync(join(tmpdir(), 'inventory-inputs-'))
    try {
      writeFileSync(join(ws, 'hosts.yml'), 'all:\n  hosts:\n    app1:\n      ansible_host: 10.1.1.1\n')
      const s = settings({ inventory: 'hosts.yml' }, { GITHUB_WORKSPACE: ws })
      assert.deepEqual(
        s.targets.map((t) => [t.label, t.host]),
        [['app1', '10.1.1.1']],
      )
      rejects({ inventory: 'missing/inventory.yml' }, 'inventory', /does not exist \(relative to the workspace/, { GITHUB_WORKSPACE: ws })
    } finally {
      rmSync(ws, { recursive: true, force: true })
    }
  })

  it('exactly one of hosts and inventory; select and batch-by only with an inventory (their defaults are fine)', () => {
    rejects({ hosts: 'web1', inventory: INI }, 'inventory', /exactly one/)
    rejects({}, 'hosts', /no hosts given.*inventory/)
    rejects({ hosts: 'web1', select: 'web' }, 'select', /inventory is empty/)
    rejects({ hosts: 'web1', 'batch-by': 'group' }, 'batch-by', /inventory is empty/)
    assert.equal(settings({ hosts: 'web1' }).targets.length, 1)
    rejects({ inventory: INI, 'batch-by': 'groups' }, 'batch-by', /give group/)
  })

  it('refuses what would go wrong on a host before any host is contacted', () => {
    rejects({ inventory: INI, select: 'nothing*' }, 'select', /nothing\*/)
    rejects({ inventory: '[web]\nweb1 ansible_password=x' }, 'inventory', /ansible_password is set for web1/)
    rejects({ inventory: '[web]\nweb1 ssh_fanout_key_env=WEB_KEY' }, 'inventory', /WEB_KEY, which is not set/)
    rejects({ inventory: '[web]\nweb1', username: '' }, 'username', /web1 has no ansible_user/)
  })

  it('without the credential inputs, hosts that all bring their own password are enough; the values are secrets', () => {
    const s = getSettings(
      reader({ command: 'deploy', username: 'deploy', fingerprints: FINGERPRINT, inventory: '[web]\nweb1 ssh_fanout_password_env=WEB_PW' }),
      { WEB_PW: 's3cret-pw' },
      inventoryReader,
    )
    assert.equal(s.targets[0].inventory?.credentials?.password, 's3cret-pw')
    assert.ok(s.inventorySecrets.includes('s3cret-pw'))
    rejects({ password: '', inventory: '[web]\nweb1\nweb2 ssh_fanout_password_env=WEB_PW' }, 'private-key', /no credentials/, { WEB_PW: 's3cret-pw' })
  })

  it('names the vars it does not use in one warning', () => {
    const s = settings({ inventory: '[web]\nweb1 ansible_become=true ansible_ssh_common_args="-C -o ProxyJump=b1"\n' })
    assert.match(s.inventoryWarning ?? '', /^inventory: not used by ssh-fanout, ignored: ansible_become, ansible_ssh_common_args -C$/)
  })
})
