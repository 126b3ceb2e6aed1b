import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import * as nodeCrypto from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ssh2 from 'ssh2'
import type { ParsedKey } from 'ssh2'

import { isPuttyKey, puttyToOpenSSH, PuttyKeyError } from '../../src/engine/ssh/ppk.js'
import { havePuttygen } from '../helpers/tools.js'

const noPuttygen = !havePuttygen() && 'puttygen not installed'

const PUTTYGEN = '/usr/bin/puttygen'
const SSH_KEYGEN = '/usr/bin/ssh-keygen'
/** Non-ASCII on purpose: PuTTY hashes the passphrase bytes, we encode UTF-8. */
const PASSPHRASE = 'correct horse ☃ battery'
const WRONG = 'Wrong-Zebra-Passphrase-42'
const HAS_ARGON2 = typeof (nodeCrypto as { argon2Sync?: unknown }).argon2Sync === 'function'

let dir: string
let seq = 0

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ppk-test-'))
  writeFileSync(join(dir, 'pass'), PASSPHRASE)
  writeFileSync(join(dir, 'empty'), '')
})

after(() => rmSync(dir, { recursive: true, force: true }))

interface GenOptions {
  version: 2 | 3
  encrypted: boolean
  comment?: string
  /** extra --ppk-param settings, e.g. 'kdf=argon2i' */
  params?: string
}

interface Generated {
  path: string
  encrypted: boolean
  text: string
  /** `type base64` as printed by `puttygen key.ppk -O public-openssh` */
  publicKey: string
}

/** Generates a real PPK file with puttygen. */
function puttygen(typeArgs: string[], opts: GenOptions): Generated {
  const path = join(dir, `key${++seq}.ppk`)
  const params = [`version=${opts.version}`, ...(opts.params ? [opts.params] : [])].join(',')
  execFileSync(
    PUTTYGEN,
    [
      ...typeArgs,
      '-q',
      '-C',
      opts.comment ?? `test key ${seq}`,
      '--new-passphrase',
      join(dir, opts.encrypted ? 'pass' : 'empty'),
      '--ppk-param',
      params,
      '-o',
      path,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const publicKey = typeAndBlob(execFileSync(PUTTYGEN, [path, '-O', 'public-openssh'], { encoding: 'utf8' }))
  return { path, encrypted: opts.encrypted, text: readFileSync(path, 'utf8'), publicKey }
}

/** puttygen's own export of the key to the OpenSSH format, unencrypted. */
function puttygenExport(generated: Generated): string {
  const out = join(dir, `exported${++seq}`)
  execFileSync(
    PUTTYGEN,
    [
      generated.path,
      ...(generated.encrypted ? ['--old-passphrase', join(dir, 'pass')] : []),
      '--new-passphrase',
      join(dir, 'empty'),
      '-O',
      'private-openssh-new',
      '-o',
      out,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  return readFileSync(out, 'utf8')
}

/** Splits an unencrypted openssh-key-v1 file into its parts. */
function decodeOpenSSH(text: string) {
  const b64 = /^-----BEGIN OPENSSH PRIVATE KEY-----\n([\s\S]*?)-----END OPENSSH PRIVATE KEY-----\n?$/.exec(text)
  assert.ok(b64, 'not an OpenSSH private key')
  const body = Buffer.from(b64[1].replace(/\s/g, ''), 'base64')
  let pos = 0
  const take = (n: number) => body.subarray(pos, (pos += n))
  const str = () => take(take(4).readUInt32BE(0))
  const magic = take(15).toString('latin1')
  const [cipher, kdf, kdfOptions] = [str().toString(), str().toString(), str()]
  const count = take(4).readUInt32BE(0)
  const publicBlob = str()
  const section = str()
  assert.equal(pos, body.length, 'trailing data')
  return { magic, cipher, kdf, kdfOptions, count, publicBlob, section }
}

function typeAndBlob(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ')
}

function sshKeygenPublic(privateKeyText: string): string {
  const path = join(dir, `converted${++seq}`)
  writeFileSync(path, privateKeyText, { mode: 0o600 })
  chmodSync(path, 0o600)
  return typeAndBlob(execFileSync(SSH_KEYGEN, ['-y', '-f', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
}

function parse(text: string): ParsedKey {
  const key = ssh2.utils.parseKey(text)
  if (key instanceof Error) throw key
  return key
}

/** The full set of checks on one converted key. */
function checkConverted(generated: Generated, converted: string, type: string, comment?: string): void {
  // (a) ssh2 parses it, with the right type (and comment)
  const key = parse(converted)
  assert.equal(key.type, type)
  assert.equal(key.isPrivateKey(), true)
  if (comment !== undefined) assert.equal(key.comment, comment)

  // (b) same public key as puttygen prints
  assert.equal(`${key.type} ${key.getPublicSSH().toString('base64')}`, generated.publicKey)

  // (c) signs data that verifies with the public key puttygen printed
  const publicKey = parse(generated.publicKey)
  const data = Buffer.from(`data to sign ${seq}`)
  const signature = key.sign(data)
  assert.ok(Buffer.isBuffer(signature), `sign failed: ${String(signature)}`)
  assert.equal(publicKey.verify(data, signature), true)
  assert.equal(publicKey.verify(Buffer.from('other data'), signature), false)

  // (d) OpenSSH reads it and derives the same public key
  assert.equal(sshKeygenPublic(converted), generated.publicKey)

  // (e) after the check ints, byte-identical to puttygen's own OpenSSH export
  // (catches what signing cannot: OpenSSL re-checks RSA CRT results and
  // silently falls back, so a wrong iqmp/p/q order would still sign)
  const ours = decodeOpenSSH(converted)
  const theirs = decodeOpenSSH(puttygenExport(generated))
  assert.deepEqual(ours.publicBlob, theirs.publicBlob)
  assert.deepEqual(unpadded(ours.section).subarray(8), unpadded(theirs.section).subarray(8))
}

/**
 * Strips the 1,2,3… padding. puttygen pads to 16 bytes (the AES block size)
 * even unencrypted, 1–16 bytes; OpenSSH (and we) pad to 8 bytes, 0–7, so the
 * padding may differ.
 */
function unpadded(section: Buffer): Buffer {
  const n = section.at(-1) ?? 0
  const tail = section.subarray(section.length - n)
  return n > 0 && n <= 16 && tail.every((byte, i) => byte === i + 1) ? section.subarray(0, section.length - n) : section
}

/** Asserts a PuttyKeyError with `reason`, whose message never contains a passphrase. */
function assertPuttyError(fn: () => unknown, reason: PuttyKeyError['reason'], pattern?: RegExp): PuttyKeyError {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof PuttyKeyError, `expected PuttyKeyError, got ${String(caught)}`)
  assert.equal(caught.reason, reason, caught.message)
  assert.equal(caught.name, 'PuttyKeyError')
  for (const secret of [PASSPHRASE, WRONG]) {
    assert.ok(!caught.message.includes(secret), `message leaks a passphrase: ${caught.message}`)
    assert.ok(!String(caught.stack).includes(secret), 'stack leaks a passphrase')
  }
  if (pattern) assert.match(caught.message, pattern)
  return caught
}

const KEY_TYPES = [
  { name: 'rsa-2048', args: ['-t', 'rsa', '-b', '2048'], type: 'ssh-rsa' },
  { name: 'ed25519', args: ['-t', 'ed25519'], type: 'ssh-ed25519' },
  { name: 'ecdsa-256', args: ['-t', 'ecdsa', '-b', '256'], type: 'ecdsa-sha2-nistp256' },
  { name: 'ecdsa-384', args: ['-t', 'ecdsa', '-b', '384'], type: 'ecdsa-sha2-nistp384' },
  { name: 'ecdsa-521', args: ['-t', 'ecdsa', '-b', '521'], type: 'ecdsa-sha2-nistp521' },
  { name: 'dsa-1024', args: ['-t', 'dsa', '-b', '1024'], type: 'ssh-dss' },
] as const

describe('puttyToOpenSSH: real puttygen keys', { skip: noPuttygen }, () => {
  for (const kt of KEY_TYPES) {
    for (const version of [2, 3] as const) {
      for (const encrypted of [false, true]) {
        const label = `${kt.name}, PPK v${version}, ${encrypted ? 'aes256-cbc' : 'unencrypted'}`
        const needsArgon2 = version === 3 && encrypted
        test(label, { skip: needsArgon2 && !HAS_ARGON2 ? 'crypto.argon2Sync missing on this Node' : false }, () => {
          const comment = `${kt.name} v${version}: comment with spaces`
          const generated = puttygen([...kt.args], { version, encrypted, comment })
          assert.ok(isPuttyKey(generated.text))
          const converted = puttyToOpenSSH(generated.text, encrypted ? PASSPHRASE : undefined)
          checkConverted(generated, converted, kt.type, comment)
        })
      }
    }
  }

  test('ECDSA private scalars with and without the top bit set (mpint leading zero)', () => {
    const seen = new Set<boolean>()
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const generated = puttygen(['-t', 'ecdsa', '-b', '256'], { version: 3, encrypted: false })
      const privateLines = /^Private-Lines: \d+\n([\s\S]*?)\nPrivate-MAC/m.exec(generated.text)![1]
      const scalar = Buffer.from(privateLines.replace(/\s/g, ''), 'base64')
      seen.add(scalar.readUInt32BE(0) === 33) // 33 bytes: 0x00 then a byte with the top bit set
      checkConverted(generated, puttyToOpenSSH(generated.text), 'ecdsa-sha2-nistp256')
    }
    assert.equal(seen.size, 2, 'did not see both scalar forms')
  })

  test('CRLF line endings and surrounding whitespace are accepted', () => {
    const generated = puttygen(['-t', 'ed25519'], { version: 2, encrypted: true })
    const mangled = `\n  ${generated.text.replace(/\n/g, '\r\n')}\r\n\n`
    assert.ok(isPuttyKey(mangled))
    checkConverted(generated, puttyToOpenSSH(mangled, PASSPHRASE), 'ssh-ed25519')
  })

  test('a passphrase given for an unencrypted key is ignored', () => {
    const generated = puttygen(['-t', 'ed25519'], { version: 3, encrypted: false })
    checkConverted(generated, puttyToOpenSSH(generated.text, WRONG), 'ssh-ed25519')
  })

  test('non-ASCII comment', () => {
    const generated = puttygen(['-t', 'ed25519'], { version: 2, encrypted: true, comment: 'clé ☃ de test' })
    checkConverted(generated, puttyToOpenSSH(generated.text, PASSPHRASE), 'ssh-ed25519', 'clé ☃ de test')
  })

  test('empty comment', () => {
    const generated = puttygen(['-t', 'ecdsa', '-b', '384'], { version: 3, encrypted: false, comment: '' })
    assert.match(generated.text, /^Comment: $/m)
    checkConverted(generated, puttyToOpenSSH(generated.text), 'ecdsa-sha2-nistp384', '')
  })
})

describe('puttyToOpenSSH: output layout (openssh-key-v1)', { skip: noPuttygen }, () => {
  test('cipher none, kdf none, one key, matching check ints, comment, padding 1,2,3…', () => {
    for (const args of [
      ['-t', 'ed25519'],
      ['-t', 'rsa', '-b', '1024'],
      ['-t', 'ecdsa', '-b', '521'],
    ]) {
      const generated = puttygen(args, { version: 2, encrypted: false, comment: 'layout check' })
      const text = puttyToOpenSSH(generated.text)
      assert.match(text, /^-----BEGIN OPENSSH PRIVATE KEY-----\n(?:[A-Za-z0-9+/=]{1,70}\n)+-----END OPENSSH PRIVATE KEY-----\n$/)
      const { magic, cipher, kdf, kdfOptions, count, publicBlob, section } = decodeOpenSSH(text)
      assert.equal(magic, 'openssh-key-v1\0')
      assert.equal(cipher, 'none')
      assert.equal(kdf, 'none')
      assert.equal(kdfOptions.length, 0)
      assert.equal(count, 1)
      assert.equal(`${generated.publicKey.split(' ')[0]} ${publicBlob.toString('base64')}`, generated.publicKey)
      assert.equal(section.length % 8, 0)
      assert.ok(section.subarray(0, 4).equals(section.subarray(4, 8)))
      // the comment sits right before the padding
      const comment = Buffer.from('layout check')
      const end = section.lastIndexOf(comment) + comment.length
      assert.equal(section.readUInt32BE(end - comment.length - 4), comment.length)
      assert.deepEqual(
        [...section.subarray(end)],
        Array.from({ length: section.length - end }, (_, i) => i + 1),
      )
    }
  })
})

describe('puttyToOpenSSH: errors', { skip: noPuttygen }, () => {
  let v2enc: Generated
  let v3enc: Generated
  let v2plain: Generated
  let v3plain: Generated

  before(() => {
    v2enc = puttygen(['-t', 'ecdsa', '-b', '256'], { version: 2, encrypted: true })
    v3enc = puttygen(['-t', 'ed25519'], { version: 3, encrypted: true, params: 'passes=2' })
    v2plain = puttygen(['-t', 'ed25519'], { version: 2, encrypted: false })
    v3plain = puttygen(['-t', 'ecdsa', '-b', '256'], { version: 3, encrypted: false })
  })

  const encryptedKeys = () => [v2enc, ...(HAS_ARGON2 ? [v3enc] : [])]

  test('wrong passphrase → reason passphrase, passphrase not in the message', () => {
    for (const key of encryptedKeys()) {
      assertPuttyError(() => puttyToOpenSSH(key.text, WRONG), 'passphrase', /wrong passphrase/)
    }
  })

  test('missing passphrase for an encrypted key → reason passphrase', () => {
    for (const key of encryptedKeys()) {
      assertPuttyError(() => puttyToOpenSSH(key.text), 'passphrase', /encrypted.*no passphrase/)
      assertPuttyError(() => puttyToOpenSSH(key.text, ''), 'passphrase', /no passphrase/)
    }
  })

  test('corrupted Private-MAC on an unencrypted key → reason format', () => {
    for (const key of [v2plain, v3plain]) {
      const bad = key.text.replace(/^(Private-MAC: )(.)/m, (_, head: string, c: string) => head + (c === '0' ? '1' : '0'))
      assert.notEqual(bad, key.text)
      assertPuttyError(() => puttyToOpenSSH(bad), 'format', /Private-MAC does not match/)
    }
  })

  test('corrupted Private-MAC on an encrypted key → reason passphrase (indistinguishable from a wrong one)', () => {
    for (const key of encryptedKeys()) {
      const bad = key.text.replace(/^(Private-MAC: )(.)/m, (_, head: string, c: string) => head + (c === '0' ? '1' : '0'))
      assertPuttyError(() => puttyToOpenSSH(bad, PASSPHRASE), 'passphrase', /damaged/)
    }
  })

  test('an edited comment or public key breaks the MAC → reason format', () => {
    assertPuttyError(() => puttyToOpenSSH(v3plain.text.replace(/^Comment: .*$/m, 'Comment: edited')), 'format')
    const pub = /^Public-Lines: \d+\n(.)/m
    const flipped = v2plain.text.replace(pub, (m, c: string) => m.slice(0, -1) + (c === 'A' ? 'B' : 'A'))
    assertPuttyError(() => puttyToOpenSSH(flipped), 'format')
  })

  test('truncated files → reason format', () => {
    for (const [key, pass] of [
      [v2plain, undefined],
      [v2enc, PASSPHRASE],
      [v3plain, undefined],
    ] as const) {
      const lines = key.text.trimEnd().split('\n')
      for (let n = 1; n < lines.length; n++) {
        assertPuttyError(() => puttyToOpenSSH(lines.slice(0, n).join('\n'), pass), 'format')
      }
      // cut in the middle of the MAC
      assertPuttyError(() => puttyToOpenSSH(key.text.trimEnd().slice(0, -7), pass), 'format', /Private-MAC/)
      // cut in the middle of the private key base64
      const cut = key.text.replace(/^(Private-Lines: \d+\n[A-Za-z0-9+/]{6})[^\n]*/m, '$1')
      assertPuttyError(() => puttyToOpenSSH(cut, pass), 'format')
    }
  })

  test('truncated encrypted v3 file is a format error before any passphrase or Argon2 work', () => {
    const lines = v3enc.text.trimEnd().split('\n')
    assertPuttyError(() => puttyToOpenSSH(lines.slice(0, -1).join('\n')), 'format', /Private-MAC/)
  })

  test('bad base64 and bad line counts → reason format', () => {
    const notBase64 = v3plain.text.replace(/^Private-Lines: \d+\n./m, (m) => m.slice(0, -1) + '!')
    assertPuttyError(() => puttyToOpenSSH(notBase64), 'format', /base64/)
    const tooMany = v3plain.text.replace(/^Public-Lines: \d+/m, 'Public-Lines: 99')
    assertPuttyError(() => puttyToOpenSSH(tooMany), 'format')
    const notNumber = v3plain.text.replace(/^Public-Lines: \d+/m, 'Public-Lines: x')
    assertPuttyError(() => puttyToOpenSSH(notNumber), 'format')
  })

  test('not a PuTTY key → reason format, saying what is accepted', () => {
    const openssh = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n'
    assertPuttyError(() => puttyToOpenSSH(openssh), 'format', /PuTTY-User-Key-File-2 or PuTTY-User-Key-File-3/)
    assertPuttyError(() => puttyToOpenSSH(''), 'format')
  })

  test('PPK version 1 → reason unsupported', () => {
    const v1 = v2plain.text.replace('PuTTY-User-Key-File-2:', 'PuTTY-User-Key-File-1:')
    assertPuttyError(() => puttyToOpenSSH(v1), 'unsupported', /version 1 .*PuTTY-User-Key-File-2 or PuTTY-User-Key-File-3/)
  })

  test('unsupported key type (Ed448) → reason unsupported, listing accepted types', () => {
    const ed448 = puttygen(['-t', 'ed448'], { version: 3, encrypted: false })
    const accepted = /accepted: ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256/
    assertPuttyError(() => puttyToOpenSSH(ed448.text), 'unsupported', accepted)
    // names that exist on Object.prototype are not key types either
    for (const name of ['constructor', '__proto__', 'toString']) {
      const edited = v3plain.text.replace('ecdsa-sha2-nistp256\n', `${name}\n`)
      assertPuttyError(() => puttyToOpenSSH(edited), 'unsupported', accepted)
    }
  })

  test('unknown encryption or key derivation → reason unsupported', () => {
    const aes128 = v2plain.text.replace('Encryption: none', 'Encryption: aes128-cbc')
    assertPuttyError(() => puttyToOpenSSH(aes128, PASSPHRASE), 'unsupported', /accepted: none, aes256-cbc/)
    const scrypt = v3enc.text.replace(/^Key-Derivation: .*$/m, 'Key-Derivation: scrypt')
    assertPuttyError(() => puttyToOpenSSH(scrypt, PASSPHRASE), 'unsupported', /accepted: Argon2id, Argon2i, Argon2d/)
    const proto = v3enc.text.replace(/^Key-Derivation: .*$/m, 'Key-Derivation: constructor')
    assertPuttyError(() => puttyToOpenSSH(proto, PASSPHRASE), 'unsupported', /accepted: Argon2id/)
    const huge = v3enc.text.replace(/^Argon2-Memory: .*$/m, 'Argon2-Memory: 999999999')
    assertPuttyError(() => puttyToOpenSSH(huge, PASSPHRASE), 'unsupported', /Argon2-Memory/)
  })
})

describe('isPuttyKey', () => {
  test('PPK v2 and v3 headers, after trimming', () => {
    assert.equal(isPuttyKey('PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none'), true)
    assert.equal(isPuttyKey('  \r\nPuTTY-User-Key-File-3: ssh-ed25519\r\n'), true)
  })

  test('anything else', () => {
    assert.equal(isPuttyKey('PuTTY-User-Key-File-1: ssh-rsa'), false)
    assert.equal(isPuttyKey('PuTTY-User-Key-File-3 ssh-rsa'), false)
    assert.equal(isPuttyKey('-----BEGIN OPENSSH PRIVATE KEY-----\n'), false)
    assert.equal(isPuttyKey('-----BEGIN RSA PRIVATE KEY-----\n'), false)
    assert.equal(isPuttyKey(''), false)
  })
})

describe('PPK v3 Argon2 (crypto.argon2Sync)', { skip: noPuttygen }, () => {
  const withArgon2 = { skip: HAS_ARGON2 ? false : 'crypto.argon2Sync missing on this Node' }
  const withoutArgon2 = { skip: HAS_ARGON2 ? 'crypto.argon2Sync exists on this Node' : false }

  test('with crypto.argon2Sync: Argon2id, Argon2i, Argon2d and parallelism 2 all decrypt', withArgon2, () => {
    for (const params of ['kdf=argon2id', 'kdf=argon2i', 'kdf=argon2d', 'parallelism=2,memory=16384,passes=3']) {
      const generated = puttygen(['-t', 'ed25519'], { version: 3, encrypted: true, params })
      checkConverted(generated, puttyToOpenSSH(generated.text, PASSPHRASE), 'ssh-ed25519')
    }
  })

  test('with crypto.argon2Sync: parameters Argon2 rejects → reason format', withArgon2, () => {
    const generated = puttygen(['-t', 'ed25519'], { version: 3, encrypted: true, params: 'passes=2' })
    const bad = generated.text.replace(/^Argon2-Parallelism: .*$/m, 'Argon2-Parallelism: 0')
    assertPuttyError(() => puttyToOpenSSH(bad, PASSPHRASE), 'format', /invalid Argon2 parameters/)
  })

  test('without crypto.argon2Sync: encrypted v3 → reason unsupported', withoutArgon2, () => {
    const generated = puttygen(['-t', 'ed25519'], { version: 3, encrypted: true })
    assertPuttyError(() => puttyToOpenSSH(generated.text, PASSPHRASE), 'unsupported', /puttygen key\.ppk -O private-openssh -o key/)
  })

  // Runs on every Node: hides crypto.argon2Sync (syncBuiltinESMExports updates
  // the ESM namespace ppk.ts imported) to exercise the fallback for real.
  test('simulated Node without crypto.argon2Sync: encrypted v3 → unsupported; v2, unencrypted v3 still work', withArgon2, () => {
    const v3enc = puttygen(['-t', 'ed25519'], { version: 3, encrypted: true, params: 'passes=2' })
    const v3plain = puttygen(['-t', 'ed25519'], { version: 3, encrypted: false })
    const v2enc = puttygen(['-t', 'ed25519'], { version: 2, encrypted: true })
    const cjsCrypto = createRequire(import.meta.url)('node:crypto') as { argon2Sync?: unknown }
    const saved = cjsCrypto.argon2Sync
    delete cjsCrypto.argon2Sync
    syncBuiltinESMExports()
    try {
      assert.equal(typeof (nodeCrypto as { argon2Sync?: unknown }).argon2Sync, 'undefined')
      for (const pass of [PASSPHRASE, undefined]) {
        assertPuttyError(() => puttyToOpenSSH(v3enc.text, pass), 'unsupported', /Argon2.*puttygen key\.ppk -O private-openssh -o key.*remove its passphrase/)
      }
      checkConverted(v3plain, puttyToOpenSSH(v3plain.text), 'ssh-ed25519')
      checkConverted(v2enc, puttyToOpenSSH(v2enc.text, PASSPHRASE), 'ssh-ed25519')
    } finally {
      cjsCrypto.argon2Sync = saved
      syncBuiltinESMExports()
    }
    assert.equal(typeof (nodeCrypto as { argon2Sync?: unknown }).argon2Sync, 'function')
  })
})
