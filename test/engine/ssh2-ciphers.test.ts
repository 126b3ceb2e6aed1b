/**
 * What the ssh2 patch changes in the packet layer, against real sshd: each cipher and MAC takes its key
 * as a KeyObject made once (crypto.js), and connections offering the same algorithm lists share one
 * KexInit (Protocol.js). Every cipher the patch touches carries 256 KiB each way intact, in many packets.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import ssh2 from 'ssh2'
import type { Algorithms } from 'ssh2'
import { loginUser } from '../helpers/fleet.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'

type Connected = { client: ssh2.Client; offer: unknown; cipher: string }

function connect(sshd: Sshd, algorithms: Algorithms): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    let cipher = ''
    client.on('handshake', (negotiated) => {
      cipher = `${negotiated.cs.cipher} ${negotiated.cs.mac}`
    })
    client.on('ready', () => resolve({ client, offer: (client as unknown as { _protocol: { _offer: unknown } })._protocol._offer, cipher }))
    client.on('error', reject)
    client.connect({ host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.clientKey, hostVerifier: () => true, algorithms })
  })
}

/** Sends `data` to `cat` on the host and returns what came back. */
function echo(client: ssh2.Client, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.exec('cat', (err, channel) => {
      if (err) return reject(err)
      const chunks: Buffer[] = []
      channel.on('data', (c: Buffer) => chunks.push(c))
      channel.on('close', () => resolve(Buffer.concat(chunks)))
      channel.end(data)
    })
  })
}

describe('the ssh2 patch: ciphers and key exchange offers', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let sshd: Sshd
  before(async () => {
    sshd = await startSshd({ user: await loginUser() })
  })
  after(async () => {
    await sshd?.stop()
  })

  const cases: [string, Algorithms, string][] = [
    ['AES-GCM', { cipher: ['aes128-gcm@openssh.com'] }, 'aes128-gcm@openssh.com'],
    ['ChaCha20-Poly1305', { cipher: ['chacha20-poly1305@openssh.com'] }, 'chacha20-poly1305@openssh.com'],
    ['AES-CTR with HMAC', { cipher: ['aes128-ctr'], hmac: ['hmac-sha2-256'] }, 'aes128-ctr hmac-sha2-256'],
    ['AES-CTR with encrypt-then-MAC', { cipher: ['aes256-ctr'], hmac: ['hmac-sha2-256-etm@openssh.com'] }, 'aes256-ctr hmac-sha2-256-etm@openssh.com'],
  ]
  for (const [name, algorithms, negotiated] of cases) {
    it(`${name}: 256 KiB each way arrive intact`, async () => {
      const { client, cipher } = await connect(sshd, algorithms)
      try {
        assert.ok(cipher.startsWith(negotiated), cipher)
        const data = randomBytes(256 * 1024)
        assert.ok((await echo(client, data)).equals(data))
      } finally {
        client.end()
      }
    })
  }

  it('connections offering the same lists share one KexInit; other lists get their own', async () => {
    const gcm: Algorithms = { cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'] }
    const [a, b, c] = await Promise.all([connect(sshd, gcm), connect(sshd, { ...gcm }), connect(sshd, { cipher: ['aes256-gcm@openssh.com'] })])
    try {
      assert.equal(a.offer, b.offer)
      assert.notEqual(a.offer, c.offer)
      assert.equal(c.cipher.split(' ')[0], 'aes256-gcm@openssh.com')
    } finally {
      for (const x of [a, b, c]) x.client.end()
    }
  })
})
