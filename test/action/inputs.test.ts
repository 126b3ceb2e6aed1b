import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULTS, getSettings, InputError, MIN_ENV_MASK_LENGTH, secretValues, type InputReader, type Settings } from '../../src/action/inputs.js'
import { actionDefaults } from '../helpers/action.js'

// ---- fixtures ---------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-inputs-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const PASSPHRASE = 'correct horse battery staple'

/** Generates a key with ssh-keygen and returns [private key text, public key text]. */
function keygen(name: string, args: string[]): { privateKey: string; publicKey: string } {
  const file = join(dir, name)
  execFileSync('ssh-keygen', ['-q', ...args, '-f', file], { stdio: 'ignore' })
  return { privateKey: readFileSync(file, 'utf8'), publicKey: readFileSync(`${file}.pub`, 'utf8') }
}

const plain = keygen('plain', ['-t', 'ed25519', '-N', ''])
const encrypted = keygen('encrypted', ['-t', 'ed25519', '-N', PASSPHRASE])
const rsaPem = keygen('rsa-pem', ['-m', 'PEM', '-t', 'rsa', '-b', '2048', '-N', ''])

/** A syntactically valid fingerprint (32-byte digest, unpadded base64). */
const FINGERPRINT = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`

/** The smallest set of inputs that is valid (strict checking on, so a fingerprint is given). */
const BASE: Record<string, string> = {
  hosts: 'web1',
  command: 'uptime',
  username: 'deploy',
  'private-key': plain.privateKey,
  fingerprints: FINGERPRINT,
}

/** A reader over a plain object; names not in it read as '' (as the runner passes unset inputs). */
function reader(inputs: Record<string, string>): InputReader {
  return (name) => inputs[name] ?? ''
}

/** getSettings on BASE with some inputs replaced ('' removes one) and an environment without an agent. */
function settings(overrides: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): Settings {
  return getSettings(reader({ ...BASE, ...overrides }), env)
}

interface Expect {
  /** Fragments the message must contain (what is accepted, what was wrong). */
  says?: Array<string | RegExp>
  /** Text the message must never contain (secrets). */
  never?: string[]
  env?: NodeJS.ProcessEnv
}

/** Asserts that getSettings throws an InputError for `input` whose message starts with `Input "<input>": `. */
function rejects(overrides: Record<string, string>, input: string, expect: Expect = {}): InputError {
  let caught: unknown
  try {
    settings(overrides, expect.env ?? {})
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`)
  assert.equal(caught.name, 'InputError')
  assert.equal(caught.input, input, `wrong input named in: ${caught.message}`)
  assert.ok(caught.message.startsWith(`Input "${input}": `), caught.message)
  for (const fragment of expect.says ?? []) {
    if (typeof fragment === 'string')
      assert.ok(caught.message.includes(fragment), `expected ${JSON.stringify(caught.message)} to include ${JSON.stringify(fragment)}`)
    else assert.match(caught.message, fragment)
  }
  for (const secret of expect.never ?? []) assert.ok(!caught.message.includes(secret), `message leaks ${JSON.stringify(secret)}: ${caught.message}`)
  return caught
}

// ---- tests ------------------------------------------------------------------

describe('getSettings: defaults', () => {
  it('applies the action.yml defaults when inputs are empty', () => {
    const s = settings()
    assert.deepEqual(s.targets, [{ host: 'web1', port: 22, username: 'deploy', label: 'web1' }])
    assert.equal(s.concurrency, 10)
    assert.equal(s.connectTimeoutMs, 30_000)
    assert.equal(s.commandTimeoutMs, 600_000)
    assert.deepEqual(s.maxFailures, { kind: 'count', value: 0 })
    assert.equal(s.failFast, true)
    assert.equal(s.retries, 2)
    assert.equal(s.maxOutputBytes, 10 * 1024 * 1024)
    assert.equal(s.strictHostKeyChecking, true)
    assert.equal(s.knownHosts, null)
    assert.deepEqual(s.fingerprints, [{ pattern: null, fingerprint: FINGERPRINT }])
    assert.deepEqual(s.env, [])
    assert.equal(s.command, 'uptime')
    assert.equal(s.envPrefix + s.command, 'uptime')
  })

  it('treats whitespace-only inputs as empty', () => {
    const blank = Object.fromEntries(
      ['port', 'concurrency', 'connect-timeout', 'command-timeout', 'max-failures', 'fail-fast', 'retries', 'max-output', 'strict-host-key-checking'].map(
        (n) => [n, ' \n\t'],
      ),
    )
    const s = settings(blank)
    assert.equal(s.targets[0].port, 22)
    assert.equal(s.concurrency, 10)
    assert.equal(s.commandTimeoutMs, 600_000)
    assert.equal(s.maxOutputBytes, 10 * 1024 * 1024)
    assert.equal(s.strictHostKeyChecking, true)
  })

  it('DEFAULTS matches the defaults declared in action.yml', () => {
    const declared = actionDefaults()
    for (const [name, value] of Object.entries(DEFAULTS)) assert.equal(declared[name], value, `default of ${name}`)
    for (const [name, value] of Object.entries(declared)) {
      // An expression (github-token's `${{ github.token }}`) is the runner's to fill in: outside it there is no such value.
      if (value !== '' && !value.startsWith('${{')) assert.equal(DEFAULTS[name], value, `action.yml default of ${name} is missing from DEFAULTS`)
    }
  })

  it('reads explicit values', () => {
    const s = settings({
      port: '2200',
      concurrency: '3',
      'connect-timeout': '1m30s',
      'command-timeout': '0',
      'max-failures': '12.5%',
      'fail-fast': 'FALSE',
      retries: '0',
      'max-output': '512KB',
      'strict-host-key-checking': 'false',
      fingerprints: '',
    })
    assert.equal(s.targets[0].port, 2200)
    assert.equal(s.concurrency, 3)
    assert.equal(s.connectTimeoutMs, 90_000)
    assert.equal(s.commandTimeoutMs, 0)
    assert.deepEqual(s.maxFailures, { kind: 'percent', value: 12.5 })
    assert.equal(s.failFast, false)
    assert.equal(s.retries, 0)
    assert.equal(s.maxOutputBytes, 512 * 1024)
    assert.equal(s.strictHostKeyChecking, false)
  })
})

describe('getSettings: hosts', () => {
  const HOSTS = 'web1, admin@web2:2222\nweb[01-03].example.com # three\n[::1]:2222 2001:db8::1'

  it('resolves user@, :port, ranges and IPv6 with the username and port defaults', () => {
    assert.deepEqual(settings({ hosts: HOSTS }).targets, [
      { host: 'web1', port: 22, username: 'deploy', label: 'web1' },
      { host: 'web2', port: 2222, username: 'admin', label: 'web2:2222' },
      { host: 'web01.example.com', port: 22, username: 'deploy', label: 'web01.example.com' },
      { host: 'web02.example.com', port: 22, username: 'deploy', label: 'web02.example.com' },
      { host: 'web03.example.com', port: 22, username: 'deploy', label: 'web03.example.com' },
      { host: '::1', port: 2222, username: 'deploy', label: '[::1]:2222' },
      { host: '2001:db8::1', port: 22, username: 'deploy', label: '2001:db8::1' },
    ])
  })

  it('labels hosts host:port when the default port is not 22', () => {
    const labels = settings({ hosts: HOSTS, port: '2200' }).targets.map((t) => `${t.username}@${t.label}`)
    assert.deepEqual(labels, [
      'deploy@web1:2200',
      'admin@web2:2222',
      'deploy@web01.example.com:2200',
      'deploy@web02.example.com:2200',
      'deploy@web03.example.com:2200',
      'deploy@[::1]:2222',
      'deploy@[2001:db8::1]:2200',
    ])
  })

  it('accepts the login names ssh accepts: user@domain@host, DOMAIN\\user@host, and in the username input', () => {
    assert.deepEqual(
      settings({ hosts: 'jane@corp.example@web1 CORP\\jane@web2 web3', username: 'svc@corp.example' }).targets.map((t) => [t.username, t.host]),
      [
        ['jane@corp.example', 'web1'],
        ['CORP\\jane', 'web2'],
        ['svc@corp.example', 'web3'],
      ],
    )
    assert.equal(settings({ username: 'CORP\\deploy' }).targets[0].username, 'CORP\\deploy')
  })

  it('zero-padded IPv4 numbers are a hosts error that says how to write them', () => {
    rejects({ hosts: '10.0.0.1\n10.0.0.[01-10]' }, 'hosts', { says: ['entry "10.0.0.[01-10]" on line 2', 'zero-padded', 'octal', 'write [1-10], not [01-10]'] })
  })

  it('needs no username input when every entry has user@', () => {
    assert.deepEqual(
      settings({ hosts: 'ops@a, ops@b:2022', username: '' }).targets.map((t) => t.username),
      ['ops', 'ops'],
    )
  })

  it('a host listed twice once defaults are applied is a hosts error, not a username error', () => {
    rejects({ hosts: 'web1 web1:22' }, 'hosts', { says: ['appears twice'] })
  })
})

describe('getSettings: bad inputs', () => {
  it('hosts empty', () => {
    rejects({ hosts: '' }, 'hosts', { says: ['no hosts given', 'e.g. web1.example.com'] })
    rejects({ hosts: '  # only a comment\n' }, 'hosts', { says: ['no hosts given'] })
  })

  it('command empty', () => {
    rejects({ command: ' \n ' }, 'command', { says: ['is required'] })
  })

  it('port 0, 70000 and abc say the whole accepted range', () => {
    for (const value of ['0', '70000', 'abc', '22.5']) {
      const err = rejects({ port: value }, 'port')
      assert.equal(err.message, `Input "port": "${value}" is not a valid port; use a whole number from 1 to 65535`)
    }
  })

  it('concurrency abc and 0', () => {
    for (const value of ['abc', '0', '-1', '2.5']) {
      rejects({ concurrency: value }, 'concurrency', { says: [`"${value}" is not a whole number ≥ 1`, 'use a whole number ≥ 1'] })
    }
  })

  it('command-timeout soon', () => {
    rejects({ 'command-timeout': 'soon' }, 'command-timeout', { says: ['"soon" is not a duration', '45s, 5m, 1h'] })
  })

  it('connect-timeout 0', () => {
    const err = rejects({ 'connect-timeout': '0' }, 'connect-timeout')
    assert.equal(err.message, 'Input "connect-timeout": must be more than 0 (e.g. 30s)')
    rejects({ 'connect-timeout': '0s' }, 'connect-timeout', { says: ['must be more than 0'] })
  })

  it('max-failures lots and 150%', () => {
    rejects({ 'max-failures': 'lots' }, 'max-failures', { says: ['"lots" is not a number of hosts or a percentage', '(0, 2)', '(10%, 12.5%)'] })
    rejects({ 'max-failures': '150%' }, 'max-failures', { says: ['"150%" is more than 100%', '0% to 100%'] })
  })

  it('fail-fast maybe', () => {
    rejects({ 'fail-fast': 'maybe' }, 'fail-fast', { says: ['"maybe" is not a boolean', 'use true or false'] })
  })

  it('strict-host-key-checking yes-please', () => {
    rejects({ 'strict-host-key-checking': 'yes-please' }, 'strict-host-key-checking', { says: ['"yes-please" is not a boolean', 'use true or false'] })
  })

  it('retries and max-output', () => {
    rejects({ retries: 'twice' }, 'retries', { says: ['"twice" is not a whole number from 0 to 10'] })
    rejects({ 'max-output': 'huge' }, 'max-output', { says: ['"huge" is not a size', '10MB'] })
  })

  it('retries above 10 (backoff would keep one host waiting for minutes)', () => {
    rejects({ retries: '11' }, 'retries', { says: ['"11" is not a whole number from 0 to 10', 'use a whole number from 0 to 10'] })
    assert.equal(settings({ retries: '10' }).retries, 10)
  })

  it('durations longer than Node.js timers can wait (they would fire at once), for every duration input', () => {
    for (const input of ['connect-timeout', 'command-timeout']) {
      rejects({ [input]: '600h' }, input, { says: ['"600h" is too long a duration', 'at most 24 days (596h)'] })
      rejects({ [input]: '2147483648ms' }, input, { says: ['at most 24 days (596h)'] })
    }
    const s = settings({ 'connect-timeout': '596h', 'command-timeout': '596h' })
    assert.equal(s.connectTimeoutMs, 596 * 3_600_000)
    assert.equal(s.commandTimeoutMs, 596 * 3_600_000)
  })

  it('an oversized value is quoted short in the error, whatever the input', () => {
    const huge = 'x'.repeat(1_000_000)
    for (const input of [
      'hosts',
      'port',
      'concurrency',
      'connect-timeout',
      'command-timeout',
      'max-failures',
      'fail-fast',
      'retries',
      'max-output',
      'strict-host-key-checking',
      'username',
    ]) {
      const value = input === 'hosts' ? `web1:${huge}` : input === 'username' ? `-${huge}` : huge
      const err = rejects({ [input]: value }, input, { says: [`(${value.length} characters)`] })
      assert.ok(err.message.length < 500, `${input}: ${err.message.length} characters`)
    }
  })

  it('a username ssh would refuse', () => {
    rejects({ username: '-oProxyCommand=x' }, 'username', { says: [`user name "-oProxyCommand=x" starts with '-'`, 'as with ssh'] })
    rejects({ username: 'a;b' }, 'username', { says: ["contains ';'"] })
  })

  it('env bad lines never show the value', () => {
    const SECRET = 'hunter2-very-secret'
    rejects({ env: `OK=1\n${SECRET}` }, 'env', { says: ["line 2 has no '='", 'NAME=value'], never: [SECRET] })
    rejects({ env: `bad-name=${SECRET}` }, 'env', { says: ['line 1', 'is not a valid variable name', 'NAME=value'], never: [SECRET] })
    rejects({ env: `=${SECRET}` }, 'env', { says: ["the name before '=' is empty"], never: [SECRET] })
    rejects({ env: `A=${SECRET}\nA=${SECRET}` }, 'env', { says: ['A is already set on line 1'], never: [SECRET] })
  })

  it('private-key garbage', () => {
    rejects({ 'private-key': 'not a key at all' }, 'private-key', {
      says: ['could not be read', 'BEGIN and END lines included', 'OpenSSH, PEM or PuTTY'],
      never: ['not a key at all'],
    })
  })

  it('private-key that is a public key', () => {
    rejects({ 'private-key': plain.publicKey }, 'private-key', { says: ['holds a public key, not a private key'] })
  })

  it('wrong passphrase names passphrase and never shows it', () => {
    const wrong = 'Tr0ub4dor&3-wrong'
    rejects({ 'private-key': encrypted.privateKey, passphrase: wrong }, 'passphrase', {
      says: ['passphrase does not decrypt the key'],
      never: [wrong, PASSPHRASE],
    })
  })

  it('encrypted key without passphrase', () => {
    rejects({ 'private-key': encrypted.privateKey }, 'passphrase', { says: ['the key is encrypted and passphrase is empty'] })
  })

  it('passphrase without key', () => {
    rejects({ 'private-key': '', password: 'pw', passphrase: PASSPHRASE }, 'passphrase', {
      says: ['is set but private-key is empty'],
      never: [PASSPHRASE],
    })
  })

  it('no credentials at all', () => {
    rejects({ 'private-key': '' }, 'private-key', { says: ['no credentials', 'SSH_AUTH_SOCK'] })
    rejects({ 'private-key': '' }, 'private-key', { says: ['no credentials'], env: { SSH_AUTH_SOCK: join(dir, 'no-such-agent.sock') } })
  })

  it('no username', () => {
    const err = rejects({ username: '' }, 'username')
    assert.equal(err.message, 'Input "username": no username for web1; give user@host or set the username')
    rejects({ username: '', hosts: 'a b:2222 ops@c' }, 'username', { says: ['no username for 2 hosts: a, b:2222;'] })
  })

  it('strict checking with neither known-hosts nor fingerprints', () => {
    rejects({ fingerprints: '' }, 'known-hosts', { says: ['neither known-hosts nor fingerprints', 'ssh-keyscan', 'strict-host-key-checking: false'] })
    rejects({ fingerprints: '# just a comment\n' }, 'known-hosts', { says: ['ssh-keyscan'] })
  })

  it('strict checking with a known-hosts holding only @revoked or @cert-authority lines', () => {
    const [type, blob] = plain.publicKey.trim().split(/\s+/)
    for (const text of [
      `@revoked * ${type} ${blob}`,
      `@cert-authority *.example.com ${type} ${blob}`,
      `# x\n@revoked web1 ${type} ${blob}\n@cert-authority * ${type} ${blob}`,
    ]) {
      rejects({ fingerprints: '', 'known-hosts': text }, 'known-hosts', {
        says: ['has only @revoked or @cert-authority lines', 'trust no host key', 'ssh-keyscan', 'fingerprints'],
      })
    }
    rejects({ fingerprints: '', 'known-hosts': `# x\n@revoked web1 ${type} ${blob}\n@revoked web2 ${type} ${blob}` }, 'known-hosts', { says: ['(lines 2, 3)'] })
    // Fine once something can be trusted, or with checking off.
    assert.equal(settings({ 'known-hosts': `@revoked * ${type} ${blob}` }).fingerprints.length, 1)
    assert.equal(settings({ fingerprints: '', 'strict-host-key-checking': 'false', 'known-hosts': `@revoked * ${type} ${blob}` }).knownHosts?.entries.length, 1)
  })

  it('strict checking with a known-hosts that has no usable entry', () => {
    rejects({ fingerprints: '', 'known-hosts': 'this is not a known_hosts line' }, 'known-hosts', {
      says: ['no usable known_hosts line', 'line 1', 'ssh-keyscan'],
    })
  })

  it('bad fingerprints line', () => {
    rejects({ fingerprints: `${FINGERPRINT}\nweb1 MD5:aa:bb` }, 'fingerprints', { says: ['line 2: malformed fingerprint', 'SHA256:<base64>'] })
    rejects({ fingerprints: 'SHA256:tooShort' }, 'fingerprints', { says: ['line 1: malformed fingerprint'] })
  })
})

describe('getSettings: credentials', () => {
  /** The parsed key's public half, as an OpenSSH public key line's type and base64. */
  const publicOf = (c: Settings['credentials']) => {
    const key = c.privateKey
    assert.ok(key && typeof key !== 'string', 'the key is parsed once, up front')
    return `${key.type} ${key.getPublicSSH().toString('base64')}`
  }
  const publicLine = (text: string) => text.trim().split(/\s+/).slice(0, 2).join(' ')

  it('parses the key once, up front', () => {
    const c = settings().credentials
    assert.deepEqual(Object.keys(c), ['privateKey'])
    assert.equal(publicOf(c), publicLine(plain.publicKey))
  })

  it('decrypts an encrypted key once with its passphrase: hosts get the decrypted key, not the passphrase', () => {
    const c = settings({ 'private-key': encrypted.privateKey, passphrase: PASSPHRASE }).credentials
    assert.deepEqual(Object.keys(c), ['privateKey'])
    assert.equal(publicOf(c), publicLine(encrypted.publicKey))
    assert.equal(c.privateKey && typeof c.privateKey !== 'string' && c.privateKey.isPrivateKey(), true)
  })

  it('accepts an RSA key in PEM format', () => {
    assert.match(rsaPem.privateKey, /^-----BEGIN RSA PRIVATE KEY-----/)
    assert.equal(publicOf(settings({ 'private-key': rsaPem.privateKey }).credentials), publicLine(rsaPem.publicKey))
  })

  it('a password alone is enough', () => {
    assert.deepEqual(settings({ 'private-key': '', password: ' pw ' }).credentials, { password: ' pw ' })
  })

  it('SSH_AUTH_SOCK pointing at an existing path counts as credentials', () => {
    const sock = join(dir, 'agent.sock')
    writeFileSync(sock, '')
    assert.deepEqual(settings({ 'private-key': '' }, { SSH_AUTH_SOCK: sock }).credentials, { agent: sock })
    const all = settings({ password: 'pw' }, { SSH_AUTH_SOCK: sock }).credentials
    assert.deepEqual({ ...all, privateKey: publicOf(all) }, { privateKey: publicLine(plain.publicKey), agent: sock, password: 'pw' })
  })

  it('SSH_AUTH_SOCK pointing at a missing path is ignored', () => {
    assert.deepEqual(Object.keys(settings({}, { SSH_AUTH_SOCK: join(dir, 'gone.sock') }).credentials), ['privateKey'])
  })
})

describe('getSettings: env and the command', () => {
  it('keeps env values byte for byte (not trimmed) and prefixes the command', () => {
    const s = settings({ env: "GREETING=hello  \nLEAD=  x\n# comment\n\nEMPTY=\nQUOTE=it's $HOME\r\n", command: 'echo "$GREETING"' })
    assert.deepEqual(s.env, [
      { name: 'GREETING', value: 'hello  ' },
      { name: 'LEAD', value: '  x' },
      { name: 'EMPTY', value: '' },
      { name: 'QUOTE', value: "it's $HOME" },
    ])
    assert.equal(s.command, 'echo "$GREETING"')
    assert.equal(
      s.envPrefix + s.command,
      "GREETING='hello  '\nLEAD='  x'\nEMPTY=''\nQUOTE='it'\\''s $HOME'\nexport GREETING LEAD EMPTY QUOTE\n" + 'echo "$GREETING"',
    )
  })

  it('with no env the remote command is the command', () => {
    const s = settings({ command: 'set -e\nuname -a\nuptime' })
    assert.equal(s.envPrefix + s.command, 'set -e\nuname -a\nuptime')
  })
})

describe('getSettings: known-hosts', () => {
  it('parses known-hosts, which alone satisfies strict checking', () => {
    const [type, blob] = plain.publicKey.trim().split(/\s+/)
    const s = settings({ fingerprints: '', 'known-hosts': `# keyscan\nweb1 ${type} ${blob}\n` })
    assert.equal(s.knownHosts?.entries.length, 1)
    assert.equal(s.knownHosts?.entries[0].hosts, 'web1')
    assert.equal(s.knownHosts?.entries[0].key.type, 'ssh-ed25519')
    assert.deepEqual(s.fingerprints, [])
  })
})

describe('secretValues', () => {
  it('returns password, passphrase and every non-empty line of the key', () => {
    const key = encrypted.privateKey
    const lines = key
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
    assert.ok(lines.length > 3)
    assert.deepEqual(secretValues(reader({ password: 'pw', passphrase: PASSPHRASE, 'private-key': key })), ['pw', PASSPHRASE, ...lines])
  })

  it('splits CRLF keys without keeping the CR', () => {
    const key = plain.privateKey.replace(/\n/g, '\r\n')
    const values = secretValues(reader({ 'private-key': key }))
    assert.deepEqual(
      values,
      plain.privateKey.split('\n').filter((l) => l !== ''),
    )
    assert.ok(values.every((v) => !v.includes('\r')))
  })

  it('returns nothing when no secret is set, and ignores other inputs', () => {
    assert.deepEqual(secretValues(reader({ hosts: 'web1', command: 'echo hi', env: 'TOKEN=abc' })), [])
  })

  it('adds every env value of MIN_ENV_MASK_LENGTH characters or more (trimmed) and every mask line, bad env lines included', () => {
    assert.equal(MIN_ENV_MASK_LENGTH, 6)
    const env =
      'TOKEN=s3cr3t-value\r\nFLAG=true\nFIVE=12345\nSIX=123456\n# NOTE=commented-out-value\nPADDED=  padded-secret  \n1BAD=bad-name-secret\nEQ=a=b=c=d=e'
    assert.deepEqual(secretValues(reader({ password: 'pw', env, mask: 'ab\n\n  short  \r\nabc123456789\npw' })), [
      'pw',
      's3cr3t-value',
      '123456',
      'padded-secret',
      'bad-name-secret',
      'a=b=c=d=e',
      'ab',
      'short',
      'abc123456789',
    ])
  })

  it('does not validate anything (it runs before getSettings)', () => {
    assert.deepEqual(secretValues(reader({ 'private-key': 'garbage', password: 'p' })), ['p', 'garbage'])
  })
})

describe('rollout inputs: batch-size, batch-pause, jump-host, shard', () => {
  it('default to one pool, no pause, no bastion, every host', () => {
    const s = settings({ hosts: 'web[1-5]' })
    assert.equal(s.batchSize, null)
    assert.equal(s.batchPauseMs, 0)
    assert.equal(s.jumpHost, null)
    assert.equal(s.shard, null)
    assert.equal(s.targets.length, 5)
    assert.equal(s.totalHosts, 5)
  })

  it('shard keeps its slice of the expanded list and counts the whole list', () => {
    const s = settings({ hosts: 'web[1-10]', shard: '2/3' })
    assert.deepEqual(
      s.targets.map((t) => t.label),
      ['web4', 'web5', 'web6'],
    )
    assert.equal(s.totalHosts, 10)
    assert.deepEqual(s.shard, { index: 2, count: 3 })
  })

  it('jump-host: its own user and port, else the username input and port 22 (not the port input)', () => {
    assert.deepEqual(settings({ 'jump-host': 'ops@bastion.example.com:2222', port: '2200' }).jumpHost, {
      host: 'bastion.example.com',
      port: 2222,
      username: 'ops',
      label: 'bastion.example.com:2222',
    })
    assert.deepEqual(settings({ 'jump-host': 'bastion', port: '2200' }).jumpHost, { host: 'bastion', port: 22, username: 'deploy', label: 'bastion' })
  })

  it('batch-size and batch-pause are parsed', () => {
    const s = settings({ 'batch-size': '1, 10%, 50%', 'batch-pause': '2m' })
    assert.deepEqual(
      s.batchSize?.items.map((i) => `${i.value}${i.kind === 'percent' ? '%' : ''}`),
      ['1', '10%', '50%'],
    )
    assert.equal(s.batchPauseMs, 120_000)
  })

  const bad: Array<[string, string, RegExp]> = [
    ['batch-size', '0', /e\.g\.|\(5\)/],
    ['batch-size', '0%', /25%/],
    ['batch-size', '1,,2', /1, 10%, 50%/],
    ['batch-pause', 'soon', /45s, 5m/],
    ['batch-pause', '600h', /596h/],
    ['shard', '4/3', /2\/4/],
    ['shard', '1/0', /2\/4/],
    ['shard', '0/3', /2\/4/],
    ['jump-host', 'bastion:99999', /deploy@bastion\.example\.com:2222/],
    ['jump-host', 'b[1-2]', /one bastion/],
  ]
  for (const [input, value, example] of bad) {
    it(`${input}: ${value} is refused with an accepted example`, () => {
      rejects({ [input]: value }, input, { says: [value, example] })
    })
  }

  it('jump-host with no user anywhere names the fix', () => {
    rejects({ 'jump-host': 'bastion', username: '', hosts: 'deploy@web1' }, 'jump-host', { says: ['has no user', 'username input'] })
  })
})
