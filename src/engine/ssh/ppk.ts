/**
 * PuTTY private key (.ppk) → unencrypted OpenSSH private key.
 *
 * ssh2 only parses `PuTTY-User-Key-File-2` files holding ssh-rsa or ssh-dss
 * keys, so PuTTY keys are converted to the `openssh-key-v1` format (cipher
 * "none", kdf "none") before they reach ssh2.
 *
 * The PPK format follows PuTTY's documentation (appendix "PPK file format",
 * doc/pubkeyfmt.but) and source (sshpubk.c, crypto/ecc-ssh.c):
 *
 *   PuTTY-User-Key-File-<2|3>: <algorithm>
 *   Encryption: none | aes256-cbc
 *   Comment: <text>
 *   Public-Lines: N, then N lines of base64 (the SSH wire public key blob)
 *   [v3, encrypted only] Key-Derivation: Argon2id|Argon2i|Argon2d,
 *     Argon2-Memory (KiB), Argon2-Passes, Argon2-Parallelism, Argon2-Salt (hex)
 *   Private-Lines: N, then N lines of base64 (private blob, maybe encrypted)
 *   Private-MAC: <hex>
 *
 * The MAC covers string(algorithm) string(encryption) string(comment)
 * string(public blob) string(decrypted private blob, padding included).
 * v2: HMAC-SHA1 keyed with SHA1("putty-private-key-file-mac-key" + passphrase);
 *     AES key = (SHA1(uint32 0 + pass) || SHA1(uint32 1 + pass))[0..32], IV 0.
 * v3: HMAC-SHA256; Argon2 (empty secret and associated data) gives 80 bytes:
 *     AES key 32, IV 16, MAC key 32. Unencrypted: zero-length MAC key.
 *
 * Private blobs (unused bytes after them are random padding):
 *   ssh-rsa      mpint d, mpint p, mpint q, mpint iqmp (q^-1 mod p)
 *   ssh-dss      mpint x
 *   ecdsa-sha2-* mpint private scalar
 *   ssh-ed25519  string of 32 bytes: the seed, "little-endian integer" —
 *                PuTTY's docs say mpint, but the code writes a fixed-length
 *                little-endian string, i.e. exactly OpenSSH's 32-byte seed.
 *
 * A MAC mismatch on an encrypted key is reported as reason 'passphrase' (a
 * wrong passphrase and a damaged file cannot be told apart); on an
 * unencrypted key it is reason 'format'. Passphrases are UTF-8 encoded.
 *
 * Only Node built-ins; no @actions/* imports.
 */
import * as crypto from 'node:crypto'
import { ACCEPTED_VERSIONS, CONVERTERS, formatError, openSSHPrivateKey, PuttyKeyError, WireReader, WireWriter } from './ppk-keys.js'

export { PuttyKeyError, type PuttyKeyErrorReason } from './ppk-keys.js'

const ACCEPTED_TYPES = 'ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-dss'
const CONVERT_HINT = 'convert it with `puttygen key.ppk -O private-openssh -o key`'

/** True when `text` looks like a PPK v2 or v3 file. */
export function isPuttyKey(text: string): boolean {
  const t = text.trim()
  return t.startsWith('PuTTY-User-Key-File-2:') || t.startsWith('PuTTY-User-Key-File-3:')
}

// ---------------------------------------------------------------------------
// Outer text layer

class PpkLines {
  private i = 0
  constructor(private readonly lines: string[]) {}

  /** Reads the next line, which must be `name: value`. */
  header(name: string): string {
    const line = this.lines[this.i]
    if (line === undefined) throw formatError(`file ends before the '${name}' line`)
    const m = /^([A-Za-z0-9-]+): ?(.*)$/.exec(line)
    if (m === null || m[1] !== name) throw formatError(`expected a '${name}:' line at line ${this.i + 1}`)
    this.i++
    return m[2]
  }

  int(name: string): number {
    const v = this.header(name).trim()
    if (!/^\d{1,9}$/.test(v)) throw formatError(`'${name}' is not a number`)
    return Number(v)
  }

  /** `<name>: N` followed by N lines of base64. */
  base64(name: string): Buffer {
    const count = this.int(name)
    if (this.i + count > this.lines.length) throw formatError(`file ends inside the ${name} section`)
    const text = this.lines
      .slice(this.i, this.i + count)
      .join('')
      .replace(/\s+/g, '')
    this.i += count
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw formatError(`${name} section is not valid base64`)
    return Buffer.from(text, 'base64')
  }

  peekName(): string | undefined {
    return /^([A-Za-z0-9-]+):/.exec(this.lines[this.i] ?? '')?.[1]
  }
}

interface Secrets {
  cipherKey: Buffer
  iv: Buffer
  macKey: Buffer
}

interface Argon2Params {
  algorithm: 'argon2d' | 'argon2i' | 'argon2id'
  memory: number
  passes: number
  parallelism: number
  salt: Buffer
}

const ARGON2_FLAVOURS = new Map<string, Argon2Params['algorithm']>([
  ['Argon2id', 'argon2id'],
  ['Argon2i', 'argon2i'],
  ['Argon2d', 'argon2d'],
])

/** Sanity limit so a malformed file cannot make Argon2 exhaust the runner's memory. */
const ARGON2_MAX_MEMORY_KIB = 1024 * 1024

type Argon2Sync = (algorithm: Argon2Params['algorithm'], parameters: crypto.Argon2Parameters) => Buffer

/** The v3 Key-Derivation / Argon2-* header lines (present only on encrypted keys). */
function readArgon2Params(lines: PpkLines): Argon2Params {
  const flavour = lines.header('Key-Derivation')
  const algorithm = ARGON2_FLAVOURS.get(flavour)
  if (algorithm === undefined) {
    throw new PuttyKeyError(`PuTTY key: unknown Key-Derivation '${flavour}'; accepted: Argon2id, Argon2i, Argon2d`, 'unsupported')
  }
  const memory = lines.int('Argon2-Memory')
  if (memory > ARGON2_MAX_MEMORY_KIB) {
    throw new PuttyKeyError(`PuTTY key: Argon2-Memory ${memory} KiB is above the accepted maximum of 1 GiB`, 'unsupported')
  }
  const passes = lines.int('Argon2-Passes')
  const parallelism = lines.int('Argon2-Parallelism')
  const saltHex = lines.header('Argon2-Salt').trim()
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(saltHex)) throw formatError('Argon2-Salt is not hex')
  return { algorithm, memory, passes, parallelism, salt: Buffer.from(saltHex, 'hex') }
}

function v3Secrets(argon2: Argon2Params | undefined, passphrase: string | undefined): Secrets {
  const empty = Buffer.alloc(0)
  if (argon2 === undefined) return { cipherKey: empty, iv: empty, macKey: empty }

  // Looked up at call time: crypto.argon2Sync only exists on Node >= 24.7.
  const argon2Sync = (crypto as { argon2Sync?: Argon2Sync }).argon2Sync
  if (typeof argon2Sync !== 'function') {
    throw new PuttyKeyError(
      `PuTTY key: this passphrase-protected PPK v3 key needs Argon2, which this Node.js (${process.version}) ` +
        `does not provide (crypto.argon2Sync, Node 24.7 or later); ${CONVERT_HINT} ` +
        'or remove its passphrase (puttygen key.ppk -P) and store the key as a secret',
      'unsupported',
    )
  }
  if (!passphrase) throw missingPassphrase()

  const { algorithm, memory, passes, parallelism, salt } = argon2
  let out: Buffer
  try {
    out = argon2Sync(algorithm, { message: Buffer.from(passphrase, 'utf8'), nonce: salt, memory, passes, parallelism, tagLength: 80 })
  } catch {
    throw formatError(`invalid Argon2 parameters (memory ${memory}, passes ${passes}, parallelism ${parallelism})`)
  }
  return { cipherKey: out.subarray(0, 32), iv: out.subarray(32, 48), macKey: out.subarray(48, 80) }
}

function v2Secrets(encrypted: boolean, passphrase: string | undefined): Secrets {
  if (encrypted && !passphrase) throw missingPassphrase()
  const pass = Buffer.from(encrypted ? passphrase! : '', 'utf8')
  const sha1 = (...parts: Buffer[]) => crypto.createHash('sha1').update(Buffer.concat(parts)).digest()
  const seq = (n: number) => new WireWriter().uint32(n).toBuffer()
  return {
    cipherKey: encrypted ? Buffer.concat([sha1(seq(0), pass), sha1(seq(1), pass)]).subarray(0, 32) : Buffer.alloc(0),
    iv: Buffer.alloc(16),
    macKey: sha1(Buffer.from('putty-private-key-file-mac-key'), pass),
  }
}

function missingPassphrase(): PuttyKeyError {
  return new PuttyKeyError('PuTTY key: the key is encrypted but no passphrase was given; set the passphrase input', 'passphrase')
}

// ---------------------------------------------------------------------------

/**
 * Converts PuTTY .ppk text to an unencrypted OpenSSH private key
 * ("-----BEGIN OPENSSH PRIVATE KEY-----"). `passphrase` is needed only for
 * encrypted keys. Throws PuttyKeyError.
 */
export function puttyToOpenSSH(text: string, passphrase?: string): string {
  const lines = new PpkLines(text.trim().split(/\r\n|\r|\n/))
  const version = /^PuTTY-User-Key-File-(\d+)$/.exec(lines.peekName() ?? '')?.[1]
  if (version === undefined) throw formatError('not a PuTTY private key')
  if (version !== '2' && version !== '3') {
    throw new PuttyKeyError(`PuTTY key: file format version ${version} is not supported; accepted: ${ACCEPTED_VERSIONS}`, 'unsupported')
  }
  const algorithm = lines.header(`PuTTY-User-Key-File-${version}`)
  const convert = CONVERTERS.get(algorithm)
  if (convert === undefined) {
    throw new PuttyKeyError(`PuTTY key: key type '${algorithm}' is not supported; accepted: ${ACCEPTED_TYPES}`, 'unsupported')
  }

  const encryption = lines.header('Encryption')
  if (encryption !== 'none' && encryption !== 'aes256-cbc') {
    throw new PuttyKeyError(`PuTTY key: encryption '${encryption}' is not supported; accepted: none, aes256-cbc`, 'unsupported')
  }
  const encrypted = encryption === 'aes256-cbc'
  const comment = lines.header('Comment')
  const publicBlob = lines.base64('Public-Lines')
  const argon2 = version === '3' && encrypted ? readArgon2Params(lines) : undefined
  const privateData = lines.base64('Private-Lines')
  const macHex = lines.header('Private-MAC').trim()
  const macAlgorithm = version === '3' ? 'sha256' : 'sha1'
  if (!new RegExp(`^[0-9a-fA-F]{${version === '3' ? 64 : 40}}$`).test(macHex)) {
    throw formatError(`Private-MAC is not an HMAC-${macAlgorithm.toUpperCase()} value in hex`)
  }
  if (encrypted && (privateData.length === 0 || privateData.length % 16 !== 0)) {
    throw formatError('encrypted private key is not a whole number of AES blocks')
  }

  // The file is well-formed; now the passphrase.
  const secrets = version === '3' ? v3Secrets(argon2, passphrase) : v2Secrets(encrypted, passphrase)

  let privateBlob = privateData
  if (encrypted) {
    const decipher = crypto.createDecipheriv('aes-256-cbc', secrets.cipherKey, secrets.iv).setAutoPadding(false)
    privateBlob = Buffer.concat([decipher.update(privateData), decipher.final()])
  }

  const macInput = new WireWriter().string(algorithm).string(encryption).string(comment).string(publicBlob).string(privateBlob).toBuffer()
  const mac = crypto.createHmac(macAlgorithm, secrets.macKey).update(macInput).digest()
  if (!crypto.timingSafeEqual(mac, Buffer.from(macHex, 'hex'))) {
    if (encrypted) {
      throw new PuttyKeyError('PuTTY key: wrong passphrase, or the key file is damaged (Private-MAC does not match)', 'passphrase')
    }
    throw formatError('Private-MAC does not match, the key file is damaged or was edited')
  }

  const pub = new WireReader(publicBlob, 'public key')
  const pubType = pub.string().toString('latin1')
  if (pubType !== algorithm) throw formatError(`public key is '${pubType}' but the header says '${algorithm}'`)
  const keyFields = new WireWriter().string(algorithm)
  convert(pub, new WireReader(privateBlob, 'private key'), keyFields)

  return openSSHPrivateKey(publicBlob, keyFields.toBuffer(), comment)
}
