/**
 * uploadArchive against real sshd, what the host side must get right: directory modes applied
 * numerically (setgid, sticky), names with a newline, names of 250 bytes (NAME_MAX is 255), over
 * tar and over SFTP; the SFTP fallback's round trips, counted (not timed) through the bench's
 * latency proxy; and a login shell that prints before the upload script runs.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type ssh2 from 'ssh2'
import { packUploads, type PackedUpload } from '../../src/action/upload/upload-files.js'
import { uploadArchive } from '../../src/engine/prepare/upload.js'
import { startBannerHost, type BannerHost } from '../helpers/banner-host.js'
import { loginUser } from '../helpers/fleet.js'
import { clientBursts, startProxies, type ProxiedConnection } from '../helpers/latency-proxy.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'
import { connectClient, leftovers, treeOf } from '../helpers/upload.js'

let work: string
let workspace: string
let user: string | undefined
let owner: { uid: number; gid: number }
/** dist/: a setgid dir, a sticky dir, a dir and a file with a newline in their names */
let odd: PackedUpload
/** many/: 100 small files in one directory */
let many: PackedUpload
/** long/: a file whose name is 250 bytes */
let long: PackedUpload

const LONG = `${'l'.repeat(246)}.txt`

async function destDir(): Promise<string> {
  const dir = await mkdtemp(join(work, 'dest-'))
  await chown(dir, owner.uid, owner.gid)
  return dir
}

function upload(client: ssh2.Client, packed: PackedUpload, remoteDir: string): Promise<void> {
  return uploadArchive(client, { archivePath: packed.archivePath, bytes: packed.bytes, remoteDir, signal: new AbortController().signal })
}

before(async () => {
  if (!requireSshd()) return
  work = await mkdtemp(join(tmpdir(), 'ssh-fanout-upload-remote-'))
  await chmod(work, 0o755)
  user = await loginUser()
  owner =
    user === undefined
      ? { uid: userInfo().uid, gid: userInfo().gid }
      : { uid: Number(execFileSync('id', ['-u', user])), gid: Number(execFileSync('id', ['-g', user])) }
  workspace = join(work, 'ws')
  const dist = join(workspace, 'dist')
  for (const [dir, mode] of [
    ['shared', 0o2775],
    ['drop', 0o1777],
    ['shared/inner', 0o2750],
    ['new\nline', 0o755],
  ] as const) {
    await mkdir(join(dist, dir), { recursive: true })
    await chmod(join(dist, dir), mode)
  }
  await writeFile(join(dist, 'shared', 'inner', 'a.txt'), 'a')
  await writeFile(join(dist, 'new\nline', 'file\nname.txt'), 'newlines')
  await mkdir(join(workspace, 'long'))
  await writeFile(join(workspace, 'long', LONG), 'a name of 250 bytes')
  const files = join(workspace, 'many')
  await mkdir(files)
  for (let i = 0; i < 100; i++) await writeFile(join(files, `file-${i}.txt`), `file ${i}\n`)
  odd = await packUploads('dist/', workspace, work)
  many = await packUploads('many/', workspace, work)
  long = await packUploads('long/', workspace, work)
})

after(async () => {
  odd?.dispose()
  many?.dispose()
  long?.dispose()
  if (work) await rm(work, { recursive: true, force: true })
})

for (const method of ['tar', 'SFTP'] as const) {
  describe(`upload over ${method}: modes and names`, { skip: !requireSshd() && 'sshd not installed' }, () => {
    let sshd: Sshd
    before(async () => {
      // without tar on the login's PATH the upload goes over SFTP
      const extraConfig = method === 'SFTP' ? ['SetEnv PATH=/nonexistent', 'Subsystem sftp internal-sftp'] : []
      sshd = await startSshd({ user, hostKeyTypes: ['ed25519'], extraConfig })
    })
    after(async () => {
      await sshd?.stop()
    })

    it('setgid and sticky directories keep their modes (2775, 1777, 2750); a directory and a file with a newline in their names arrive', async () => {
      const dest = await destDir()
      const logFrom = sshd.log().length
      const client = await connectClient(sshd)
      try {
        await upload(client, odd, join(dest, 'site'))
      } finally {
        client.end()
      }
      const tree = await treeOf(join(dest, 'site'))
      assert.equal(tree.shared, 'dir 2775')
      assert.equal(tree.drop, 'dir 1777')
      assert.equal(tree['shared/inner'], 'dir 2750')
      assert.deepEqual(tree, await treeOf(join(workspace, 'dist')))
      assert.ok(tree['new\nline/file\nname.txt']?.startsWith('file '))
      assert.deepEqual(await leftovers(dest), [])
      if (method === 'SFTP') assert.match(sshd.log().slice(logFrom), /subsystem 'sftp'/)
    })

    it('a file name of 250 bytes arrives (the temporary name beside it stays short)', async () => {
      const dest = await destDir()
      const client = await connectClient(sshd)
      try {
        await upload(client, long, dest)
      } finally {
        client.end()
      }
      assert.deepEqual(Object.keys(await treeOf(dest)), [LONG])
      assert.deepEqual(await leftovers(dest), [])
    })
  })
}

describe('upload over SFTP: round trips', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let sshd: Sshd
  before(async () => {
    sshd = await startSshd({ user, hostKeyTypes: ['ed25519'], extraConfig: ['SetEnv PATH=/nonexistent', 'Subsystem sftp internal-sftp'] })
  })
  after(async () => {
    await sshd?.stop()
  })

  it('100 files in one directory take far fewer round trips than 6 per file, one after the other (counted, not timed)', async () => {
    // 50 ms each way is far above either side's processing, so each round trip the client waits for starts a new burst of its traffic
    const rttMs = 100
    const proxies = await startProxies(['127.1.202.1'], [sshd], rttMs)
    const dest = await destDir()
    let conn: ProxiedConnection
    let from: number
    try {
      const client = await connectClient(sshd, { host: '127.1.202.1', port: proxies.listeners[0].port })
      conn = proxies.connections[0]
      from = conn.flights.length
      try {
        await upload(client, many, dest)
      } finally {
        client.end()
      }
    } finally {
      await proxies.close()
    }
    assert.equal(Object.keys(await treeOf(dest)).length, 100)
    assert.deepEqual(await leftovers(dest), [])
    const trips = clientBursts({ ...conn, flights: conn.flights.slice(from) }, rttMs / 4)
    // one after the other it was 6 or 7 per file (709 counted here); pipelined about 30 (the tar attempt, the SFTP
    // channel and the destination, then 4 per file, 32 files at a time): well below 100 on any machine
    assert.ok(trips < 100, `${trips} round trips for 100 files`)
  })
})

describe('upload to a host whose login shell prints', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let host: BannerHost
  before(async () => {
    host = await startBannerHost()
  })
  after(async () => {
    await host?.stop()
  })

  it('the banner (stdout without a newline, and stderr) does not disturb the upload', async () => {
    const dest = await mkdtemp(join(host.tmp, 'dest-'))
    const st = await stat(host.tmp)
    await chown(dest, st.uid, st.gid)
    const client = await connectClient(host.sshd)
    try {
      await upload(client, many, dest)
    } finally {
      client.end()
    }
    assert.deepEqual(await treeOf(dest), await treeOf(join(workspace, 'many')))
    assert.deepEqual(await leftovers(dest), [])
  })
})
