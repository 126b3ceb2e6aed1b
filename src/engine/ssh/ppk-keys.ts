/**
 * The key material of a PuTTY key: reading the SSH wire blobs (RFC 4251 §5) of each key type and
 * writing them as an unencrypted `openssh-key-v1` private key (see ppk.ts for the file format).
 */
import * as crypto from 'node:crypto'

export type PuttyKeyErrorReason = 'format' | 'passphrase' | 'unsupported'

export class PuttyKeyError extends Error {
  constructor(
    message: string,
    readonly reason: PuttyKeyErrorReason,
  ) {
    super(message)
    this.name = 'PuttyKeyError'
  }
}

export const ACCEPTED_VERSIONS = 'PuTTY-User-Key-File-2 or PuTTY-User-Key-File-3 (PuTTY 0.52 and later)'

// ---------------------------------------------------------------------------
// SSH wire format helpers (RFC 4251 §5)

export function formatError(what: string): PuttyKeyError {
  return new PuttyKeyError(`PuTTY key: ${what}; expected a ${ACCEPTED_VERSIONS} file as saved by PuTTYgen`, 'format')
}

export class WireReader {
  private pos = 0
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  uint32(): number {
    if (this.pos + 4 > this.buf.length) throw formatError(`${this.what} is truncated`)
    const n = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return n
  }

  string(): Buffer {
    const len = this.uint32()
    if (this.pos + len > this.buf.length) throw formatError(`${this.what} is truncated`)
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }

  /** An unsigned mpint, returned as its magnitude without leading zero bytes. */
  mpint(): Buffer {
    const b = this.string()
    if (b.length > 0 && b[0] & 0x80) throw formatError(`${this.what} holds a negative number`)
    return stripZeros(b)
  }

  end(): void {
    if (this.pos !== this.buf.length) throw formatError(`${this.what} has unexpected trailing data`)
  }
}

export class WireWriter {
  private readonly parts: Buffer[] = []

  uint32(n: number): this {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n)
    this.parts.push(b)
    return this
  }

  string(data: Buffer | string): this {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    return this.uint32(b.length).raw(b)
  }

  /** Writes a non-negative magnitude as a canonical mpint. */
  mpint(magnitude: Buffer): this {
    const m = stripZeros(magnitude)
    return this.string(m.length > 0 && m[0] & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m)
  }

  raw(b: Buffer): this {
    this.parts.push(b)
    return this
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts)
  }
}

export function stripZeros(b: Buffer): Buffer {
  let i = 0
  while (i < b.length && b[i] === 0) i++
  return b.subarray(i)
}

// ---------------------------------------------------------------------------
// Key types: read the PPK public and private blobs, write OpenSSH's private
// key fields (everything after the key type string)

export type Converter = (pub: WireReader, priv: WireReader, out: WireWriter) => void

const ecdsa =
  (curve: string): Converter =>
  (pub, priv, out) => {
    const curveName = pub.string().toString('latin1')
    if (curveName !== curve) throw formatError(`public key names curve '${curveName}', expected '${curve}'`)
    const point = pub.string()
    pub.end()
    out.string(curve).string(point).mpint(priv.mpint())
  }

export const CONVERTERS = new Map<string, Converter>([
  [
    'ssh-rsa',
    (pub, priv, out) => {
      const e = pub.mpint()
      const n = pub.mpint()
      pub.end()
      const d = priv.mpint()
      const p = priv.mpint()
      const q = priv.mpint()
      const iqmp = priv.mpint()
      out.mpint(n).mpint(e).mpint(d).mpint(iqmp).mpint(p).mpint(q)
    },
  ],
  [
    'ssh-dss',
    (pub, priv, out) => {
      const [p, q, g, y] = [pub.mpint(), pub.mpint(), pub.mpint(), pub.mpint()]
      pub.end()
      out.mpint(p).mpint(q).mpint(g).mpint(y).mpint(priv.mpint())
    },
  ],
  ['ecdsa-sha2-nistp256', ecdsa('nistp256')],
  ['ecdsa-sha2-nistp384', ecdsa('nistp384')],
  ['ecdsa-sha2-nistp521', ecdsa('nistp521')],
  [
    'ssh-ed25519',
    (pub, priv, out) => {
      const point = pub.string()
      pub.end()
      if (point.length !== 32) throw formatError('Ed25519 public key is not 32 bytes')
      // A little-endian integer: bytes beyond the 32nd must be zero, and a
      // shorter string is zero-extended at the end.
      const le = priv.string()
      if (le.subarray(32).some((byte) => byte !== 0)) throw formatError('Ed25519 private key is longer than 32 bytes')
      const seed = Buffer.alloc(32)
      le.copy(seed, 0, 0, Math.min(32, le.length))
      out.string(point).string(Buffer.concat([seed, point]))
    },
  ],
])

/** openssh-key-v1 (PROTOCOL.key), cipher and kdf "none", one key. */
export function openSSHPrivateKey(publicBlob: Buffer, keyFields: Buffer, comment: string): string {
  const check = crypto.randomBytes(4)
  const section = new WireWriter().raw(check).raw(check).raw(keyFields).string(comment).toBuffer()
  const padding = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1))
  const body = new WireWriter()
    .raw(Buffer.from('openssh-key-v1\0', 'latin1'))
    .string('none')
    .string('none')
    .string('')
    .uint32(1)
    .string(publicBlob)
    .string(Buffer.concat([section, padding]))
    .toBuffer()
  const b64 = body.toString('base64').replace(/.{1,70}/g, '$&\n')
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`
}
