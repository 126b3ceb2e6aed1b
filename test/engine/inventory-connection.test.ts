/** What a host's merged inventory vars say about reaching it (engine/inventory/connection.ts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { hostConnection, proxyJump } from '../../src/engine/inventory/connection.js'
import type { Var, VarValue } from '../../src/engine/inventory/types.js'

const vars = (o: Record<string, VarValue>): Map<string, Var> =>
  new Map(Object.entries(o).map(([k, value]) => [k, { value, where: `inv.yml: all.hosts.web1.${k}` }]))

describe('hostConnection', () => {
  it('reads address, port, user and key file, with the old ansible_ssh_* spellings too', () => {
    const c = hostConnection('web1', vars({ ansible_host: '10.0.0.5', ansible_port: 2222, ansible_user: 'deploy', ansible_ssh_private_key_file: '~/.ssh/web' }))
    assert.deepEqual([c.address, c.port, c.user, c.keyFile], ['10.0.0.5', 2222, 'deploy', '~/.ssh/web'])
    const old = hostConnection('web1', vars({ ansible_ssh_host: '10.0.0.6', ansible_ssh_port: '2200', ansible_ssh_user: 'ops', ansible_private_key_file: 'k' }))
    assert.deepEqual([old.address, old.port, old.user, old.keyFile], ['10.0.0.6', 2200, 'ops', 'k'])
    const bare = hostConnection('web1', vars({}))
    assert.deepEqual([bare.address, bare.port, bare.user, bare.keyFile, bare.jump], ['web1', null, null, null, null])
  })

  it('refuses a password in the inventory, naming where it is and what to do instead', () => {
    for (const key of ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password']) {
      assert.throws(
        () => hostConnection('web1', vars({ [key]: 'hunter2' })),
        (err: Error) =>
          err.message.startsWith(`inv.yml: all.hosts.web1.${key}: ${key} is set for web1`) &&
          /ssh_fanout_password_env/.test(err.message) &&
          !err.message.includes('hunter2'),
      )
    }
  })

  it('refuses Jinja in a var it uses, and a port that is not one', () => {
    assert.throws(() => hostConnection('web1', vars({ ansible_user: '{{ deploy_user }}' })), /all\.hosts\.web1\.ansible_user: ansible_user uses Jinja/)
    assert.throws(() => hostConnection('web1', vars({ ansible_port: 70000 })), /the port of web1 is "70000"; give a whole number from 1 to 65535/)
    assert.throws(() => hostConnection('web1', vars({ ansible_host: ['a'] })), /ansible_host is a list/)
  })

  it('passes only the vars ssh_fanout_env lists: strings as they are, numbers in decimal, booleans as true/false', () => {
    const c = hostConnection('web1', vars({ ssh_fanout_env: ['ROLE', 'WORKERS', 'CANARY'], ROLE: 'web', WORKERS: 8, CANARY: false, SECRET_THING: 'x' }))
    assert.deepEqual(c.env, [
      { name: 'ROLE', value: 'web' },
      { name: 'WORKERS', value: '8' },
      { name: 'CANARY', value: 'false' },
    ])
    assert.throws(() => hostConnection('web1', vars({ ssh_fanout_env: ['MAP'], MAP: { a: 1 } })), /MAP is a mapping; give a string, a number or a boolean/)
    assert.throws(() => hostConnection('web1', vars({ ssh_fanout_env: ['MISSING'] })), /ssh_fanout_env lists MISSING, but web1 has no var MISSING/)
    assert.throws(() => hostConnection('web1', vars({ ssh_fanout_env: ['bad-name'], 'bad-name': 'x' })), /not an environment variable name/)
    assert.throws(() => hostConnection('web1', vars({ ssh_fanout_env: ['ROLE'], ROLE: '{{ role }}' })), /ROLE uses Jinja/)
  })

  it('takes the key and password from environment variables it names', () => {
    const c = hostConnection('web1', vars({ ssh_fanout_key_env: 'WEB_KEY', ssh_fanout_password_env: 'WEB_PW' }))
    assert.deepEqual([c.keyEnv, c.passwordEnv], ['WEB_KEY', 'WEB_PW'])
    assert.throws(() => hostConnection('web1', vars({ ssh_fanout_key_env: 'not a name' })), /not an environment variable name/)
  })

  it('finds the bastion in ssh_fanout_jump_host, else -J or ProxyJump in ansible_ssh_common_args; other options are named to ignore', () => {
    assert.equal(hostConnection('web1', vars({ ssh_fanout_jump_host: 'ops@bastion:2222', ansible_ssh_common_args: '-J other' })).jump, 'ops@bastion:2222')
    assert.deepEqual(proxyJump('-J ops@b1:2200', 'x'), { jump: 'ops@b1:2200', ignored: [] })
    assert.deepEqual(proxyJump('-Jb1', 'x'), { jump: 'b1', ignored: [] })
    assert.deepEqual(proxyJump("-o ProxyJump=b2 -o 'StrictHostKeyChecking no' -C", 'x'), { jump: 'b2', ignored: ['-o StrictHostKeyChecking no', '-C'] })
    assert.deepEqual(proxyJump('-oProxyJump=ssh://b3:22', 'x'), { jump: 'b3:22', ignored: [] })
    assert.throws(() => proxyJump('-J b1,b2', 'inv.ini line 4'), /inv\.ini line 4: ansible_ssh_common_args names several bastions \(b1,b2\)/)
  })
})
