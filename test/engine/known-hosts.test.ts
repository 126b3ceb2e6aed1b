import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import {
  checkHostKey,
  entriesFor,
  fingerprintAccepted,
  fingerprintOf,
  hostKeyAlgorithmsFor,
  hostKeyFromBlob,
  knownKeyTypes,
  lookupName,
  matchPatternList,
  parseFingerprints,
  parseKnownHosts,
  type HostKey,
} from '../../src/engine/trust/known-hosts.js'

const SSH_KEYGEN = '/usr/bin/ssh-keygen'

interface TestKey {
  /** `type base64`, ready to append to a known_hosts host field */
  text: string
  key: HostKey
  /** fingerprint as printed by `ssh-keygen -l` */
  sshKeygenFingerprint: string
}

let dir: string
let fileCounter = 0
const keys: Record<'ed1' | 'ed2' | 'ecdsa' | 'rsa', TestKey> = {} as never

function generateKey(name: string, args: string[]): TestKey {
  const file = join(dir, name)
  execFileSync(SSH_KEYGEN, ['-q', '-N', '', '-C', name, '-f', file, ...args])
  const [type, base64] = readFileSync(`${file}.pub`, 'utf8').trim().split(' ')
  const listing = execFileSync(SSH_KEYGEN, ['-l', '-f', `${file}.pub`], { encoding: 'utf8' })
  return {
    text: `${type} ${base64}`,
    key: hostKeyFromBlob(Buffer.from(base64, 'base64')),
    sshKeygenFingerprint: listing.split(' ')[1],
  }
}

function writeTemp(text: string): string {
  const file = join(dir, `known_hosts_${++fileCounter}`)
  writeFileSync(file, text)
  return file
}

/** Line numbers `ssh-keygen -F name` reports as matching (any marker). */
function opensshMatchingLines(file: string, name: string): number[] {
  const out = spawnSync(SSH_KEYGEN, ['-F', name, '-f', file], { encoding: 'utf8' }).stdout
  return [...out.matchAll(/^# Host .* found: line (\d+)/gm)].map((m) => Number(m[1]))
}

/** Hashes every hashable name of a file with `ssh-keygen -H`, returning the new text. */
function hashWithSshKeygen(text: string): string {
  const file = writeTemp(text)
  execFileSync(SSH_KEYGEN, ['-H', '-f', file], { stdio: 'ignore' })
  return readFileSync(file, 'utf8')
}

function ourMatchingLines(text: string, host: string, port: number): number[] {
  return entriesFor(parseKnownHosts(text), host, port).map((e) => e.line)
}

/** Asserts our matching agrees with `ssh-keygen -F` for every query, and returns our lines per query. */
function assertSameAsOpenssh(text: string, queries: Array<[string, number]>): Map<string, number[]> {
  const file = writeTemp(text)
  const result = new Map<string, number[]>()
  for (const [host, port] of queries) {
    const ours = ourMatchingLines(text, host, port)
    const name = lookupName(host, port)
    assert.deepEqual(ours, opensshMatchingLines(file, name), `lines matching ${name}`)
    result.set(`${host}:${port}`, ours)
  }
  return result
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'known-hosts-test-'))
  keys.ed1 = generateKey('ed1', ['-t', 'ed25519'])
  keys.ed2 = generateKey('ed2', ['-t', 'ed25519'])
  keys.ecdsa = generateKey('ecdsa', ['-t', 'ecdsa', '-b', '256'])
  keys.rsa = generateKey('rsa', ['-t', 'rsa', '-b', '2048'])
})

after(() => rmSync(dir, { recursive: true, force: true }))

describe('keys and fingerprints', () => {
  test('hostKeyFromBlob reads the type from the blob', () => {
    assert.equal(keys.ed1.key.type, 'ssh-ed25519')
    assert.equal(keys.ecdsa.key.type, 'ecdsa-sha2-nistp256')
    assert.equal(keys.rsa.key.type, 'ssh-rsa')
    assert.throws(() => hostKeyFromBlob(Buffer.from([0, 0])))
    assert.throws(() => hostKeyFromBlob(Buffer.from([0, 0, 0, 9, 0x61])))
  })

  test('fingerprintOf equals ssh-keygen -l for every key type', () => {
    for (const k of Object.values(keys)) {
      assert.match(k.sshKeygenFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/)
      assert.equal(fingerprintOf(k.key.blob), k.sshKeygenFingerprint)
    }
  })

  test('lookupName: bare host on port 22, [host]:port otherwise, lowercased', () => {
    assert.equal(lookupName('Web.Example.COM', 22), 'web.example.com')
    assert.equal(lookupName('web', 2222), '[web]:2222')
    assert.equal(lookupName('2001:DB8::1', 22), '2001:db8::1')
    assert.equal(lookupName('2001:db8::1', 2222), '[2001:db8::1]:2222')
  })
})

describe('matchPatternList', () => {
  test('wildcards, literal brackets, negation, case', () => {
    assert.equal(matchPatternList('a,b,c', 'b'), true)
    assert.equal(matchPatternList('a,b,c', 'd'), false)
    assert.equal(matchPatternList('*.example.com', 'x.example.com'), true)
    assert.equal(matchPatternList('*.example.com', 'example.com'), false)
    assert.equal(matchPatternList('h?st', 'host'), true)
    assert.equal(matchPatternList('h?st', 'hst'), false)
    assert.equal(matchPatternList('[*]:2222', '[web]:2222'), true)
    assert.equal(matchPatternList('[ab]', 'a'), false, 'brackets are literal, not a character class')
    assert.equal(matchPatternList('*,!bad', 'bad'), false)
    assert.equal(matchPatternList('!bad,*', 'bad'), false, 'negation wins regardless of order')
    assert.equal(matchPatternList('!bad', 'good'), false, 'only negations never match')
    assert.equal(matchPatternList('WEB.example.com', 'web.EXAMPLE.com'), true)
    assert.equal(matchPatternList('a*b*c', 'aXXbYYbc'), true)
    assert.equal(matchPatternList('a*b*c', 'aXXbYYbcd'), false)
  })
})

describe('known_hosts matching agrees with ssh-keygen -F', () => {
  const queries: Array<[string, number]> = [
    ['plain.example.com', 22],
    ['plain.example.com', 2222],
    ['alias1', 22],
    ['alias2', 22],
    ['ALIAS2', 22],
    ['web', 22],
    ['web', 2222],
    ['web', 2200],
    ['a.wild.org', 22],
    ['bad.wild.org', 22],
    ['wild.org', 22],
    ['anything', 2200],
    ['anything', 2201],
    ['host', 22],
    ['hast', 22],
    ['hoost', 22],
    ['2001:db8::1', 22],
    ['2001:db8::1', 2222],
    ['2001:db8::2', 22],
    ['10.0.0.5', 22],
    ['10.0.0.6', 22],
    ['revoked.example.com', 22],
    ['nomatch', 22],
  ]

  function sample(): string {
    const { ed1, ed2, ecdsa } = keys
    return [
      '# a comment',
      `plain.example.com ${ed1.text} comment here`,
      `alias1,Alias2 ${ecdsa.text}`,
      '',
      `[web]:2222 ${ed1.text}`,
      `web ${ed2.text}`,
      `*.wild.org,!bad.wild.org ${ed1.text}`,
      `[*]:2200 ${ed1.text}`,
      `h?st ${ed1.text}`,
      `2001:db8::1 ${ed1.text}`,
      `[2001:db8::1]:2222 ${ed2.text}`,
      `10.0.0.* ${ecdsa.text}`,
      `@revoked revoked.example.com ${ed2.text}`,
    ].join('\n')
  }

  test('plain entries: names, comma lists, case, [host]:port, wildcards, negation, IPv6', () => {
    const got = assertSameAsOpenssh(sample(), queries)
    // Spot checks, so a shared misunderstanding with ssh-keygen would still be visible.
    assert.deepEqual(got.get('plain.example.com:22'), [2])
    assert.deepEqual(got.get('plain.example.com:2222'), [], 'a bare entry does not apply on another port')
    assert.deepEqual(got.get('ALIAS2:22'), [3])
    assert.deepEqual(got.get('web:2222'), [5], 'a [host]:2222 entry does not apply on port 22, and vice versa')
    assert.deepEqual(got.get('web:22'), [6])
    assert.deepEqual(got.get('bad.wild.org:22'), [])
    assert.deepEqual(got.get('anything:2200'), [8])
    assert.deepEqual(got.get('hast:22'), [9])
    assert.deepEqual(got.get('hoost:22'), [])
    assert.deepEqual(got.get('2001:db8::1:22'), [10])
    assert.deepEqual(got.get('2001:db8::1:2222'), [11])
    assert.deepEqual(got.get('revoked.example.com:22'), [13])
  })

  test('hashed entries written by ssh-keygen -H (bare and [host]:port)', () => {
    const hashed = hashWithSshKeygen(sample())
    const hashedLines = hashed.split('\n').filter((l) => l.startsWith('|1|'))
    assert.ok(hashedLines.length >= 7, `expected ssh-keygen to hash most names:\n${hashed}`)
    const got = assertSameAsOpenssh(hashed, queries)
    for (const name of ['plain.example.com:22', 'web:2222', 'web:22', 'alias1:22', '2001:db8::1:2222']) {
      assert.equal(got.get(name)?.length, 1, name)
    }
    assert.equal(got.get('ALIAS2:22')?.length, 1, 'host names are lowercased before hashing')
    assert.deepEqual(got.get('plain.example.com:2222'), [])
    assert.equal(parseKnownHosts(hashed).warnings.length, 0)
  })

  test('a hand-made hashed entry matches only its exact name', () => {
    // ssh-keygen -H of a one-line file, then a look at what we produce for other names
    const hashed = hashWithSshKeygen(`[db.example.com]:2222 ${keys.ed1.text}\n`).trim()
    assert.match(hashed, /^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /)
    assertSameAsOpenssh(hashed, [
      ['db.example.com', 2222],
      ['db.example.com', 22],
      ['db.example.com', 2223],
    ])
    assert.deepEqual(ourMatchingLines(hashed, 'DB.example.com', 2222), [1])
    assert.deepEqual(ourMatchingLines(hashed, 'db.example.com', 22), [])
  })
})

describe('checkHostKey', () => {
  test('match, changed, unknown', () => {
    const kh = parseKnownHosts(`web ${keys.ed1.text}\nweb ${keys.ecdsa.text}\n`)
    assert.equal(checkHostKey(kh, 'web', 22, keys.ed1.key), 'match')
    assert.equal(checkHostKey(kh, 'WEB', 22, keys.ecdsa.key), 'match')
    assert.equal(checkHostKey(kh, 'web', 22, keys.ed2.key), 'changed', 'same type, different key')
    assert.equal(checkHostKey(kh, 'web', 22, keys.rsa.key), 'unknown', 'only other key types known')
    assert.equal(checkHostKey(kh, 'other', 22, keys.ed1.key), 'unknown')
    assert.equal(checkHostKey(kh, 'web', 2222, keys.ed1.key), 'unknown', 'bare entry does not apply to port 2222')
  })

  test('a second line with the right key wins over a changed one', () => {
    const kh = parseKnownHosts(`web ${keys.ed2.text}\n*.x,web ${keys.ed1.text}\n`)
    assert.equal(checkHostKey(kh, 'web', 22, keys.ed1.key), 'match')
  })

  test('@revoked keys are rejected even when also listed as trusted, for the hosts the line names', () => {
    const kh = parseKnownHosts([`web ${keys.ed1.text}`, `@revoked web ${keys.ed1.text}`, `other ${keys.ed2.text}`, `@revoked * ${keys.ed2.text}`].join('\n'))
    assert.equal(checkHostKey(kh, 'web', 22, keys.ed1.key), 'revoked')
    assert.equal(checkHostKey(kh, 'other', 22, keys.ed2.key), 'revoked')
    assert.equal(checkHostKey(kh, 'elsewhere', 2222, keys.ed2.key), 'revoked', '`*` revokes for every host')
    assert.equal(checkHostKey(kh, 'web', 22, keys.ecdsa.key), 'unknown')
  })

  test('@revoked applies only to the hosts its patterns match, as in OpenSSH', () => {
    const kh = parseKnownHosts(
      [`@revoked old.example.com,[db]:2222 ${keys.ed1.text}`, `new.example.com,db ${keys.ed1.text}`, `[db]:2222 ${keys.ed1.text}`].join('\n'),
    )
    assert.equal(checkHostKey(kh, 'old.example.com', 22, keys.ed1.key), 'revoked')
    assert.equal(checkHostKey(kh, 'new.example.com', 22, keys.ed1.key), 'match', 'a key revoked for another host is still trusted here')
    assert.equal(checkHostKey(kh, 'db', 22, keys.ed1.key), 'match', '[db]:2222 does not name db on port 22')
    assert.equal(checkHostKey(kh, 'db', 2222, keys.ed1.key), 'revoked')
    assert.deepEqual(knownKeyTypes(kh, 'new.example.com', 22), ['ssh-ed25519'])
    assert.deepEqual(knownKeyTypes(kh, 'db', 2222), [])
  })

  test('@revoked and @cert-authority lines do not count as known keys', () => {
    const kh = parseKnownHosts(`@revoked web ${keys.ed1.text}\n@cert-authority web ${keys.ed2.text}\n`)
    assert.equal(checkHostKey(kh, 'web', 22, keys.ed2.key), 'unknown')
    assert.deepEqual(knownKeyTypes(kh, 'web', 22), [])
  })

  test('hashed entries verify keys', () => {
    const kh = parseKnownHosts(hashWithSshKeygen(`[web]:2222 ${keys.ed1.text}\n`))
    assert.equal(checkHostKey(kh, 'web', 2222, keys.ed1.key), 'match')
    assert.equal(checkHostKey(kh, 'web', 2222, keys.ed2.key), 'changed')
    assert.equal(checkHostKey(kh, 'web', 22, keys.ed1.key), 'unknown')
  })
})

describe('knownKeyTypes and hostKeyAlgorithmsFor', () => {
  test('distinct types of applicable plain lines in file order', () => {
    const kh = parseKnownHosts(
      [
        `web ${keys.rsa.text}`,
        `other ${keys.ecdsa.text}`,
        `*.x,web ${keys.ed1.text}`,
        `web ${keys.ed2.text}`,
        `[web]:2222 ${keys.ecdsa.text}`,
        `web ${keys.rsa.text}`,
      ].join('\n'),
    )
    assert.deepEqual(knownKeyTypes(kh, 'web', 22), ['ssh-rsa', 'ssh-ed25519'])
    assert.deepEqual(knownKeyTypes(kh, 'web', 2222), ['ecdsa-sha2-nistp256'])
    assert.deepEqual(knownKeyTypes(kh, 'nobody', 22), [])
  })

  test('a key type known only through a revoked key is not preferred', () => {
    const kh = parseKnownHosts(`web ${keys.ed1.text}\nweb ${keys.ecdsa.text}\n@revoked * ${keys.ed1.text}\n`)
    assert.deepEqual(knownKeyTypes(kh, 'web', 22), ['ecdsa-sha2-nistp256'])
  })

  test('maps key types to ssh2 algorithm names', () => {
    assert.deepEqual(hostKeyAlgorithmsFor(['ssh-rsa', 'ssh-ed25519']), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519'])
    assert.deepEqual(hostKeyAlgorithmsFor(['ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ecdsa-sha2-nistp256']), [
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
      'ecdsa-sha2-nistp256',
    ])
    assert.deepEqual(hostKeyAlgorithmsFor(['sk-ssh-ed25519@openssh.com']), [])
    assert.deepEqual(hostKeyAlgorithmsFor([]), [])
  })
})

describe('parseKnownHosts warnings', () => {
  test('@cert-authority lines are parsed, ignored, and warned about once', () => {
    const kh = parseKnownHosts([`@cert-authority *.example.com ${keys.ed1.text}`, `web ${keys.ed2.text}`, `@cert-authority * ${keys.ecdsa.text}`].join('\n'))
    assert.equal(kh.entries.length, 3)
    assert.equal(kh.warnings.length, 1)
    assert.match(kh.warnings[0], /@cert-authority/)
    assert.match(kh.warnings[0], /ignored/)
    assert.match(kh.warnings[0], /never trusted/)
    assert.equal(checkHostKey(kh, 'a.example.com', 22, keys.ed1.key), 'unknown')
  })

  test('malformed lines are skipped with a warning naming the line; nothing throws', () => {
    const good = `good ${keys.ed1.text}`
    const [type, base64] = keys.ed1.text.split(' ')
    const text = [
      '# comment',
      good,
      'onlyhost',
      `host ${type}`,
      `host ${type} not*base64!`,
      `host ssh-rsa ${base64}`,
      `@bogus host ${keys.ed1.text}`,
      `|1|bad|hash ${keys.ed1.text}`,
      `host ${type} ${Buffer.from('garbage').toString('base64')}`,
      '   ',
      `\t${good}\r`,
    ].join('\n')
    const kh = parseKnownHosts(text)
    assert.deepEqual(
      kh.entries.map((e) => e.line),
      [2, 11],
    )
    assert.equal(kh.warnings.length, 7)
    for (const [i, line] of [3, 4, 5, 6, 7, 8, 9].entries()) {
      assert.match(kh.warnings[i], new RegExp(`^line ${line}: `))
    }
    assert.equal(checkHostKey(kh, 'good', 22, keys.ed1.key), 'match')
  })

  test('empty input', () => {
    assert.deepEqual(parseKnownHosts(''), { entries: [], warnings: [] })
  })
})

describe('fingerprints', () => {
  test('rules with and without host patterns', () => {
    const ed1 = keys.ed1.sshKeygenFingerprint
    const ed2 = keys.ed2.sshKeygenFingerprint
    const ecdsa = keys.ecdsa.sshKeygenFingerprint
    const rules = parseFingerprints(['# comment', '', ed1, `*.example.com,!bad.example.com ${ed2}`, `  [db]:2222 ${ecdsa}  `, `web:2200 ${ecdsa}`].join('\n'))
    assert.deepEqual(rules, [
      { pattern: null, fingerprint: ed1 },
      { pattern: '*.example.com,!bad.example.com', fingerprint: ed2 },
      { pattern: '[db]:2222', fingerprint: ecdsa },
      { pattern: 'web:2200', fingerprint: ecdsa },
    ])
    assert.equal(fingerprintAccepted(rules, 'anything', 2222, ed1), true)
    assert.equal(fingerprintAccepted(rules, 'a.example.com', 22, ed2), true)
    assert.equal(fingerprintAccepted(rules, 'A.Example.com', 2222, ed2), true, 'bare host name matches on any port')
    assert.equal(fingerprintAccepted(rules, 'bad.example.com', 22, ed2), false)
    assert.equal(fingerprintAccepted(rules, 'bad.example.com', 2222, ed2), false, 'negation applies to every name form')
    assert.equal(fingerprintAccepted(rules, 'other', 22, ed2), false)
    assert.equal(fingerprintAccepted(rules, 'db', 2222, ecdsa), true, 'matches the [host]:port name')
    assert.equal(fingerprintAccepted(rules, 'db', 22, ecdsa), false)
    assert.equal(fingerprintAccepted(rules, 'web', 2200, ecdsa), true, 'matches host:port')
    assert.equal(fingerprintAccepted(rules, 'web', 22, ecdsa), false)
    assert.equal(fingerprintAccepted(rules, 'a.example.com', 22, keys.rsa.sshKeygenFingerprint), false)
  })

  test('a negated pattern vetoes the rule whichever name form the positive matched', () => {
    const rsa = keys.rsa.sshKeygenFingerprint
    const rules = parseFingerprints(`*,!bad.example.com ${rsa}\n`)
    assert.equal(fingerprintAccepted(rules, 'good.example.com', 22, rsa), true)
    assert.equal(fingerprintAccepted(rules, 'good.example.com', 2222, rsa), true)
    assert.equal(fingerprintAccepted(rules, 'bad.example.com', 22, rsa), false)
    // `*` matches `[bad.example.com]:2222`, but `!bad.example.com` matches the bare name.
    assert.equal(fingerprintAccepted(rules, 'bad.example.com', 2222, rsa), false)
    assert.equal(fingerprintAccepted(parseFingerprints(`*,![bad]:2222 ${rsa}`), 'bad', 2222, rsa), false)
    assert.equal(fingerprintAccepted(parseFingerprints(`*,![bad]:2222 ${rsa}`), 'bad', 22, rsa), true)
  })

  test('trailing = padding is tolerated on both sides', () => {
    const digest = createHash('sha256').update(keys.rsa.key.blob).digest('base64')
    assert.ok(digest.endsWith('='))
    const rules = parseFingerprints(`SHA256:${digest}\n`)
    assert.deepEqual(rules, [{ pattern: null, fingerprint: keys.rsa.sshKeygenFingerprint }])
    assert.equal(fingerprintAccepted(rules, 'h', 22, fingerprintOf(keys.rsa.key.blob)), true)
    assert.equal(fingerprintAccepted(rules, 'h', 22, `SHA256:${digest}`), true)
  })

  test('malformed lines throw naming the line number and the accepted forms', () => {
    const good = keys.ed1.sshKeygenFingerprint
    const bad = [
      'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48',
      'SHA256:AAAA',
      `${good}x`,
      `SHA256:${good.slice(7, 20)}!${good.slice(21)}`,
      `host ${good} extra`,
      `host ${good.slice(7)}`,
      `sha1:${good.slice(7)}`,
    ]
    for (const line of bad) {
      assert.throws(
        () => parseFingerprints(`# first\n${good}\n${line}\n`),
        (err: Error) => /line 3\b/.test(err.message) && /SHA256:/.test(err.message) && /HOST-PATTERN/.test(err.message),
        line,
      )
    }
  })

  test('a rule for an IPv6 address is not read as another address plus a port', () => {
    const ed1 = keys.ed1.sshKeygenFingerprint
    // 2001:db8::1:2222 and ::1:22 are addresses in their own right.
    const rules = parseFingerprints(`2001:db8::1:2222 ${ed1}\n::1:22 ${ed1}\n`)
    assert.equal(fingerprintAccepted(rules, '2001:db8::1:2222', 22, ed1), true)
    assert.equal(fingerprintAccepted(rules, '2001:db8::1', 2222, ed1), false)
    assert.equal(fingerprintAccepted(rules, '::1:22', 22, ed1), true)
    assert.equal(fingerprintAccepted(rules, '::1', 22, ed1), false)
    const bracketed = parseFingerprints(`[2001:db8::1]:2222 ${ed1}\n`)
    assert.equal(fingerprintAccepted(bracketed, '2001:db8::1', 2222, ed1), true, '[host]:port names an IPv6 host and port')
    assert.equal(fingerprintAccepted(bracketed, '2001:db8::1:2222', 22, ed1), false)
    assert.equal(fingerprintAccepted(parseFingerprints(`10.0.0.1:2222 ${ed1}`), '10.0.0.1', 2222, ed1), true, 'host:port still works for IPv4')
  })

  test('an ssh-keygen -l line (key size first) is refused with a hint, not read as a rule for host "256"', () => {
    const good = keys.ed1.sshKeygenFingerprint
    for (const line of [`256 ${good}`, `256 ${good} root@web1 (ED25519)`, `3072 ${good} (RSA)`]) {
      assert.throws(
        () => parseFingerprints(`${good}\n${line}\n`),
        (err: Error) =>
          err.message.startsWith('line 2: ') &&
          err.message.includes('is the key size that ssh-keygen -l prints, not a host pattern') &&
          err.message.includes('drop the bit count'),
        line,
      )
    }
    assert.deepEqual(parseFingerprints(`web256 ${good}`), [{ pattern: 'web256', fingerprint: good }])
  })

  test('empty input gives no rules', () => {
    assert.deepEqual(parseFingerprints('\n  \n# only a comment\n'), [])
    assert.equal(fingerprintAccepted([], 'h', 22, keys.ed1.sshKeygenFingerprint), false)
  })
})
