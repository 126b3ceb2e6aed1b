/**
 * The built bundle against real sshd with an Ansible inventory (issue 18): per-host users, ports
 * and keys (from a file, from an environment variable, masked), a bastion per group, batches by
 * group, and the mistakes refused before any host is contacted.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { tcpProxy, type TcpProxy } from '../helpers/net.js'
import { ensureLoginUser, requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'
import { loginUser } from '../helpers/fleet.js'

type Result = Record<string, unknown> & { host: string; status: string; output: string }

describe('Ansible inventories through the built action', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let a: Sshd
  let b: Sshd
  let bastion1: Sshd
  let bastion2: Sshd
  let proxy: TcpProxy
  let userA: string
  let userB: string
  let dir: string
  let keyFile: string
  before(async () => {
    userA = (await loginUser()) ?? ''
    // A second login user where the tests may create one (root): each host logs in as its own ansible_user.
    userB = process.getuid?.() === 0 ? await ensureLoginUser('ssh-fanout-inv') : userA
    a = await startSshd({ host: '127.0.19.1', user: userA || undefined })
    b = await startSshd({ host: '127.0.19.2', user: userB || undefined })
    const keyA = `${a.clientKey.trim()}\n`
    const pubA = (await import('node:fs')).readFileSync(`${a.clientKeyPath}.pub`, 'utf8')
    // Bastions that log every forward (DEBUG1), logged in to with host a's key (the run's private-key).
    bastion1 = await startSshd({ host: '127.0.19.11', user: userA || undefined, authorizedKeys: [pubA], extraConfig: ['LogLevel DEBUG1'] })
    bastion2 = await startSshd({ host: '127.0.19.12', user: userA || undefined, authorizedKeys: [pubA], extraConfig: ['LogLevel DEBUG1'] })
    proxy = await tcpProxy({ host: a.host, port: a.port }, '127.0.19.21')
    dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-inventory-'))
    keyFile = join(dir, 'web1.key')
    writeFileSync(keyFile, keyA, { mode: 0o600 })
  })
  after(async () => {
    await proxy?.close()
    await Promise.all([a, b, bastion1, bastion2].map((s) => s?.stop()))
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  const fingerprints = () => [a, b, bastion1, bastion2].flatMap((s) => s.hostKeys.map((k) => k.fingerprint)).join('\n')

  it('runs each host with its own address, port, user and key (a key file, and a key from an environment variable, masked)', async () => {
    const inventory = [
      'all:',
      '  children:',
      '    web:',
      '      vars:',
      '        ssh_fanout_env: [ROLE]',
      '        ROLE: webserver',
      '      hosts:',
      '        web1:',
      `          ansible_host: ${a.host}`,
      `          ansible_port: ${a.port}`,
      `          ansible_user: ${a.username}`,
      `          ansible_ssh_private_key_file: ${keyFile}`,
      '        web2:',
      `          ansible_host: ${b.host}`,
      `          ansible_port: ${b.port}`,
      `          ansible_user: ${b.username}`,
      '          ssh_fanout_key_env: WEB2_KEY',
      '          ROLE: cache',
    ].join('\n')
    const run = await runAction(
      { hosts: '', inventory, 'known-hosts': a.knownHosts + b.knownHosts, command: 'echo "$(id -un) $ROLE"' },
      { env: { WEB2_KEY: b.clientKey } },
    )
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const res = results(run) as Result[]
    assert.deepEqual(
      res.map((r) => [r.host, r.address, r.port, r.username, r.groups, r.output]),
      [
        ['web1', a.host, a.port, a.username, ['web'], `${a.username} webserver`],
        ['web2', b.host, b.port, b.username, ['web'], `${b.username} cache`],
      ],
    )
    assert.ok(run.groups.some((g) => /success web1: exit 0/.test(g.title)))
    // The key from the environment is registered as a secret before anything else, and never printed otherwise.
    const keyLines = b.clientKey.split('\n').filter((l) => l.trim().length > 20 && !l.startsWith('-----'))
    const masks = commandsOf(run, 'add-mask').map((c) => c.message)
    for (const line of keyLines) {
      assert.ok(masks.includes(line.trim()), 'each line of the key is masked')
      const printed = run.stdout.split('\n').filter((l) => l.includes(line.trim()) && !l.startsWith('::add-mask::'))
      assert.deepEqual(printed, [], 'the key is printed nowhere else')
      assert.ok(!run.summary.includes(line.trim()))
      assert.ok(!JSON.stringify(run.outputs).includes(line.trim()))
    }
    const firstMask = run.stdout.indexOf('::add-mask::')
    assert.ok(firstMask >= 0 && firstMask < run.stdout.indexOf('ssh-fanout: running on'), 'masked before the first line')
  })

  it('reaches two groups through two bastions, one session each (ssh_fanout_jump_host, and ProxyJump in ansible_ssh_common_args)', async () => {
    const inventory = [
      '[eu]',
      `eu1 ansible_host=${a.host} ansible_port=${a.port}`,
      '[us]',
      `us1 ansible_host=${proxy.host} ansible_port=${proxy.port}`,
      '[eu:vars]',
      `ssh_fanout_jump_host=${bastion1.host}:${bastion1.port}`,
      '[us:vars]',
      `ansible_ssh_common_args='-o ProxyJump=${bastion2.host}:${bastion2.port} -o StrictHostKeyChecking=no'`,
    ].join('\n')
    const logins = [bastion1, bastion2].map((s) => (s.log().match(/Accepted publickey/g) ?? []).length)
    const run = await runAction({ hosts: '', inventory, username: a.username, 'private-key': a.clientKey, fingerprints: fingerprints(), command: 'true' })
    assert.equal(run.code, 0, run.stdout + run.stderr)
    assert.deepEqual(
      (results(run) as Result[]).map((r) => [r.host, r.status, r.groups]),
      [
        ['eu1', 'success', ['eu']],
        ['us1', 'success', ['us']],
      ],
    )
    const forwards = (s: Sshd) => new Set([...s.log().matchAll(/server_request_direct_tcpip: .*target (127\.0\.19\.\d+) port/g)].map((m) => m[1]))
    assert.deepEqual([...forwards(bastion1)], [a.host])
    assert.deepEqual([...forwards(bastion2)], [proxy.host])
    assert.deepEqual(
      [bastion1, bastion2].map((s, i) => (s.log().match(/Accepted publickey/g) ?? []).length - logins[i]),
      [1, 1],
    )
    assert.equal((run.stdout.match(/^ssh-fanout: jump host \S+: connected/gm) ?? []).length, 2, run.stdout)
    const warning = commandsOf(run, 'warning').find((c) => /^inventory: /.test(c.message))
    assert.ok(warning && /ansible_ssh_common_args -o StrictHostKeyChecking=no/.test(warning.message), JSON.stringify(commandsOf(run, 'warning')))
  })

  it('batch-by group: batches never mix groups, in the order select names them; a host in two groups goes with the first', async () => {
    const line = (name: string) => `${name} ansible_host=${a.host} ansible_port=${a.port}`
    const inventory = ['[web]', line('web1'), line('web2'), line('web3'), '[canary]', line('web2'), '[db]', line('db1')].join('\n')
    const inputs = { hosts: '', inventory, username: a.username, 'private-key': a.clientKey, fingerprints: fingerprints(), command: 'true' }
    const run = await runAction({ ...inputs, select: 'canary:web', 'batch-by': 'group' })
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const res = results(run) as Result[]
    assert.deepEqual(
      res.map((r) => [r.host, r.batch]),
      [
        ['web2', 1],
        ['web1', 2],
        ['web3', 2],
      ],
    )
    assert.match(run.stdout, /^ssh-fanout: batch 1\/2: 1 host$/m)
    assert.match(run.stdout, /^ssh-fanout: batch 2\/2: 2 hosts$/m)
    // batch-size applies within each group.
    const sized = await runAction({ ...inputs, select: 'all', 'batch-by': 'group', 'batch-size': '2' })
    assert.equal(sized.code, 0, sized.stdout)
    assert.deepEqual(
      (results(sized) as Result[]).map((r) => [r.host, r.batch]),
      [
        ['web1', 1],
        ['web2', 1],
        ['web3', 2],
        ['db1', 3],
      ],
    )
    // Without batch-by, Ansible's inventory order, and the :& / :! operators.
    const picked = await runAction({ ...inputs, select: 'web:!canary' })
    assert.deepEqual(
      (results(picked) as Result[]).map((r) => r.host),
      ['web1', 'web3'],
    )
  })

  describe('mistakes are refused before any host is contacted', () => {
    const refused = async (inputs: Record<string, string>, input: string, message: RegExp, env: Record<string, string> = {}) => {
      const logins = (a.log().match(/Connection from/g) ?? []).length
      const run = await runAction(
        { hosts: '', username: a.username, 'private-key': a.clientKey, fingerprints: fingerprints(), command: 'true', ...inputs },
        { env },
      )
      assert.equal(run.code, 1, run.stdout)
      const error = commandsOf(run, 'error')
      assert.equal(error.length, 1, run.stdout)
      assert.match(error[0].message, new RegExp(`^Input "${input}": `))
      assert.match(error[0].message, message)
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at /, 'no stack trace')
      assert.equal(run.groups.length, 0)
      assert.equal((a.log().match(/Connection from/g) ?? []).length, logins, 'no connection')
    }
    const ini = (extra = '') => `[web]\nweb1 ansible_host=${a.host} ansible_port=${a.port} ${extra}\n[db]\ndb1 ansible_host=${a.host}`

    it('a selection that matches no host names the pattern and the groups', () =>
      refused({ inventory: ini(), select: 'cache*' }, 'select', /cache\*.*\b(db|web)\b/))
    it('hosts and inventory both set', () => refused({ hosts: 'web1', inventory: ini() }, 'inventory', /exactly one/))
    it('ansible_password in the inventory', () =>
      refused({ inventory: ini('ansible_password=hunter2') }, 'inventory', /ansible_password.*ssh_fanout_password_env/))
    it('a key variable that is not set', () => refused({ inventory: ini('ssh_fanout_key_env=NOPE_KEY') }, 'inventory', /NOPE_KEY.*not set/))
    it('Jinja in a var that is used', () => refused({ inventory: ini("ansible_user=\"{{ lookup('env', 'USER') }}\"") }, 'inventory', /Jinja/))
    it('batch-by other than group', () => refused({ inventory: ini(), 'batch-by': 'host' }, 'batch-by', /group/))
    it('a YAML syntax error shows line and column', () => refused({ inventory: 'all:\n  hosts:\n    web1: {\n' }, 'inventory', /line \d+.*column \d+|\d+:\d+/))
  })
})
