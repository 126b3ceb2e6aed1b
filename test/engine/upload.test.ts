/**
 * uploadArchive against real sshd: tar over an exec channel (the default fixture has no
 * SFTP subsystem), the SFTP fallback (a login whose PATH has no tar), failures, a
 * connection cut mid-upload, cancel, concurrent uploads to the same directory.
 * The "remote" is this machine, so the tests look at the destination directly.
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync } from 'node:fs'
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type ssh2 from 'ssh2'
import { packUploads, type PackedUpload } from '../../src/action/upload-files.js'
import { resolveRemoteDir, uploadArchive, UploadError, UPLOAD_SCRIPT, type UploadOptions } from '../../src/engine/prepare/upload.js'
import { loginUser } from '../helpers/fleet.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'
import { connectClient, cuttingProxy, eventually, treeOf } from '../helpers/upload.js'

const execFileP = promisify(execFile)
const BIG = 12 * 1024 * 1024

let work: string
let workspace: string
let user: string | undefined
let owner: { uid: number; gid: number }
/** dist/ with nested dirs, an executable, symlinks (one pointing out of the tree), an empty dir */
let tree: PackedUpload
/** big.bin only */
let big: PackedUpload

async function writeRandom(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path)
  for (let left = bytes; left > 0; left -= 1 << 20) {
    if (!out.write(randomBytes(Math.min(left, 1 << 20)))) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).on('error', reject))
}

/** A fresh destination directory the login user owns. */
async function destDir(): Promise<string> {
  const dir = await mkdtemp(join(work, 'dest-'))
  await chown(dir, owner.uid, owner.gid)
  return dir
}

async function upload(client: ssh2.Client, packed: PackedUpload, remoteDir: string, extra: Partial<UploadOptions> = {}): Promise<void> {
  await uploadArchive(client, { archivePath: packed.archivePath, bytes: packed.bytes, remoteDir, signal: new AbortController().signal, ...extra })
}

async function rejection(p: Promise<unknown>): Promise<UploadError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof UploadError, `expected an UploadError, got ${String(err)}`)
    return err
  }
  assert.fail('expected the upload to fail')
}

/** The login directory (sshd's fixture sets HOME elsewhere: the working directory is the account's home). */
function remotePwd(client: ssh2.Client): Promise<string> {
  return new Promise<string>((resolve, reject) =>
    client.exec('pwd', (err, ch) => {
      if (err) return reject(err)
      let out = ''
      ch.on('data', (d: Buffer) => (out += d.toString())).on('close', () => resolve(out.trim()))
    }),
  )
}

/** Names of staging dirs and temp files anywhere under `dir`. */
async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const name of await readdir(dir, { recursive: true })) if (name.split('/').some((s) => s.includes('.ssh-fanout-'))) found.push(name)
  return found
}

before(async () => {
  if (!requireSshd()) return
  work = await mkdtemp(join(tmpdir(), 'ssh-fanout-upload-test-'))
  await chmod(work, 0o755)
  user = await loginUser()
  owner =
    user === undefined
      ? { uid: userInfo().uid, gid: userInfo().gid }
      : { uid: Number(execFileSync('id', ['-u', user])), gid: Number(execFileSync('id', ['-g', user])) }
  workspace = join(work, 'ws')
  const dist = join(workspace, 'dist')
  await mkdir(join(dist, 'assets', 'img'), { recursive: true })
  await mkdir(join(dist, 'empty'))
  await mkdir(join(dist, 'private'), { mode: 0o750 })
  await writeFile(join(dist, 'index.html'), '<h1>hi</h1>\n')
  await writeFile(join(dist, 'assets', 'app.js'), 'console.log(1)\n'.repeat(1000))
  await writeFile(join(dist, 'assets', 'img', 'logo.bin'), randomBytes(300_000))
  await writeFile(join(dist, 'private', 'secret.txt'), 'x', { mode: 0o600 })
  await writeFile(join(dist, 'restart.sh'), '#!/bin/sh\necho restarted\n', { mode: 0o755 })
  await writeFile(join(dist, `${'n'.repeat(120)}.txt`), 'long name')
  await writeFile(join(dist, 'späce ü.txt'), 'utf-8 name')
  await symlink('index.html', join(dist, 'current.html'))
  await symlink('/etc/hostname', join(dist, 'outside-link'))
  await writeRandom(join(workspace, 'big.bin'), BIG)
  tree = await packUploads('dist/', workspace, work)
  big = await packUploads('big.bin', workspace, work)
})

after(async () => {
  tree?.dispose()
  big?.dispose()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('resolveRemoteDir', () => {
  it('keeps absolute paths, makes the rest relative to the login directory, refuses ~user', () => {
    assert.equal(resolveRemoteDir('/srv/app'), '/srv/app')
    assert.equal(resolveRemoteDir('app/current'), './app/current')
    assert.equal(resolveRemoteDir('-rf'), './-rf')
    assert.equal(resolveRemoteDir('~/app'), './app')
    assert.equal(resolveRemoteDir('~'), '.')
    assert.throws(() => resolveRemoteDir('~deploy/app'), /~user paths are not supported/)
    assert.throws(() => resolveRemoteDir(''), /empty/)
    assert.throws(() => resolveRemoteDir('a\nb'), /line break/)
  })

  it('the remote script is plain sh text', () => {
    assert.doesNotMatch(UPLOAD_SCRIPT, /\$\{[^}]*[:#]|\[\[|\blocal\b|\bfunction\b/, 'bashisms')
  })
})

describe('upload with tar, to a host without SFTP', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let sshd: Sshd
  before(async () => {
    sshd = await startSshd({ user, hostKeyTypes: ['ed25519'] })
  })
  after(async () => {
    await sshd?.stop()
  })

  it('the fixture really has no SFTP subsystem', async () => {
    const client = await connectClient(sshd)
    try {
      await assert.rejects(new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s)))), /subsystem/)
    } finally {
      client.end()
    }
  })

  it('a tree with nested dirs, an executable, symlinks, an empty dir and long names arrives identical (bytes and modes)', async () => {
    const dest = await destDir()
    const logFrom = sshd.log().length
    const client = await connectClient(sshd)
    const seen: number[] = []
    try {
      await upload(client, tree, join(dest, 'new', 'site'), { onProgress: (n) => seen.push(n) })
    } finally {
      client.end()
    }
    assert.deepEqual(await treeOf(join(dest, 'new', 'site')), await treeOf(join(workspace, 'dist')))
    assert.equal(seen.at(-1), tree.bytes)
    assert.deepEqual(await leftovers(dest), [])
    assert.doesNotMatch(sshd.log().slice(logFrom), /subsystem/)
  })

  it('replaces existing files and symlinks in place, keeps other files there', async () => {
    const dest = await destDir()
    await writeFile(join(dest, 'index.html'), 'old')
    await symlink('nowhere', join(dest, 'restart.sh'))
    await writeFile(join(dest, 'keep.txt'), 'mine')
    const client = await connectClient(sshd)
    try {
      await upload(client, tree, dest)
    } finally {
      client.end()
    }
    const expected = { ...(await treeOf(join(workspace, 'dist'))), 'keep.txt': (await treeOf(dest))['keep.txt'] }
    assert.deepEqual(await treeOf(dest), expected)
  })

  it('a relative or ~/ directory lands in the login directory; odd characters are never interpreted by the shell', async () => {
    const name = `.ssh-fanout-upload-test-${randomBytes(4).toString('hex')}`
    const odd = `we'ird $(touch PWNED) "dir" -x`
    const client = await connectClient(sshd)
    const home = await remotePwd(client).catch((err: Error) => {
      client.end()
      throw err
    })
    try {
      await upload(client, tree, `~/${name}/${odd}`)
      await upload(client, tree, `${name}/plain`)
    } finally {
      client.end()
    }
    try {
      assert.deepEqual(await treeOf(join(home, name, odd)), await treeOf(join(workspace, 'dist')))
      assert.ok(existsSync(join(home, name, 'plain', 'index.html')))
      assert.ok(!existsSync(join(home, 'PWNED')) && !existsSync(join(home, name, 'PWNED')), 'the directory name ran a command')
    } finally {
      await rm(join(home, name), { recursive: true, force: true })
    }
  })

  it('an unwritable target fails with upload: and the remote reason, not retryable', async () => {
    const locked = await mkdtemp(join(work, 'locked-'))
    await chmod(locked, 0o555)
    const client = await connectClient(sshd)
    try {
      const err = await rejection(upload(client, tree, join(locked, 'site')))
      assert.match(err.message, /^upload: cannot create the directory .*locked-.*\/site on the host \(.*Permission denied\)$/)
      assert.equal(err.retryable, false)
      // a directory that exists but is not writable
      const err2 = await rejection(upload(client, tree, locked))
      assert.match(err2.message, /^upload: cannot write in .*locked-.* on the host \(.*Permission denied\)$/)
    } finally {
      client.end()
    }
    assert.deepEqual(await readdir(locked), [])
  })

  it('a file that cannot replace a directory fails with the reason, and leaves no staging behind', async () => {
    const dest = await destDir()
    await mkdir(join(dest, 'index.html', 'inside'), { recursive: true })
    await chown(join(dest, 'index.html'), owner.uid, owner.gid)
    await chown(join(dest, 'index.html', 'inside'), owner.uid, owner.gid)
    const client = await connectClient(sshd)
    try {
      const err = await rejection(upload(client, tree, dest))
      assert.match(err.message, /^upload: cannot move the files into place in .* on the host \(.*index\.html.*\)$/)
    } finally {
      client.end()
    }
    assert.deepEqual(await leftovers(dest), [])
  })

  it('a connection cut mid-upload: retryable, no partial file at the final path, no staging left', async () => {
    const dest = await destDir()
    await writeFile(join(dest, 'big.bin'), 'previous release')
    await chown(join(dest, 'big.bin'), owner.uid, owner.gid)
    const proxy = await cuttingProxy(sshd, 4 * 1024 * 1024)
    const client = await connectClient(sshd, proxy)
    client.on('error', () => undefined)
    try {
      const err = await rejection(upload(client, big, dest))
      assert.match(err.message, /^upload: connection lost after \d+ bytes$/)
      assert.equal(err.retryable, true)
      await proxy.cut
      // the remote tar reads EOF and its trap removes the staging dir
      assert.ok(await eventually(async () => (await leftovers(dest)).length === 0), `staging left: ${(await leftovers(dest)).join(', ')}`)
      assert.deepEqual(await readdir(dest), ['big.bin'])
      const now = await readFile(join(dest, 'big.bin'))
      assert.ok(now.toString() === 'previous release', `the final path holds ${now.length} bytes of something else: a partial file`)
    } finally {
      client.end()
      await proxy.close()
    }
  })

  it('cancel: rejects upload: cancelled, the host cleans up', async () => {
    const dest = await destDir()
    const controller = new AbortController()
    const client = await connectClient(sshd)
    try {
      const err = await rejection(upload(client, big, dest, { signal: controller.signal, onProgress: () => controller.abort() }))
      assert.equal(err.message, 'upload: cancelled')
      assert.equal(err.retryable, false)
      assert.ok(await eventually(async () => (await readdir(dest)).length === 0), `left: ${(await readdir(dest)).join(', ')}`)
    } finally {
      client.end()
    }
  })

  it('two uploads of the same files to the same directory at once both succeed, intact', async () => {
    const dest = await destDir()
    const both = await packUploads('dist/\nbig.bin', workspace, work)
    const clients = await Promise.all([connectClient(sshd), connectClient(sshd)])
    try {
      await Promise.all(clients.map((c) => upload(c, both, dest)))
    } finally {
      for (const c of clients) c.end()
      both.dispose()
    }
    const expected = { ...(await treeOf(join(workspace, 'dist'))), 'big.bin': (await treeOf(workspace))['big.bin'] }
    assert.deepEqual(await treeOf(dest), expected)
  })
})

describe('upload over SFTP, to a host without tar', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let sshd: Sshd
  before(async () => {
    // the login's PATH has no tar (nor anything else): the upload script reports it and SFTP takes over
    sshd = await startSshd({ user, hostKeyTypes: ['ed25519'], extraConfig: ['SetEnv PATH=/nonexistent', 'Subsystem sftp internal-sftp'] })
  })
  after(async () => {
    await sshd?.stop()
  })

  it('the tree arrives identical (bytes and modes), replacing what was there, with no temp files left', async () => {
    const dest = await destDir()
    await mkdir(join(dest, 'site'))
    await writeFile(join(dest, 'site', 'index.html'), 'old')
    await symlink('nowhere', join(dest, 'site', 'current.html'))
    for (const p of ['site', 'site/index.html']) await chown(join(dest, p), owner.uid, owner.gid)
    await execFileP('chown', ['-h', `${owner.uid}:${owner.gid}`, join(dest, 'site', 'current.html')])
    const logFrom = sshd.log().length
    const client = await connectClient(sshd)
    const seen: number[] = []
    try {
      await upload(client, tree, join(dest, 'site'), { onProgress: (n) => seen.push(n) })
    } finally {
      client.end()
    }
    assert.deepEqual(await treeOf(join(dest, 'site')), await treeOf(join(workspace, 'dist')))
    assert.equal(seen.at(-1), tree.bytes)
    assert.deepEqual(await leftovers(dest), [])
    assert.match(sshd.log().slice(logFrom), /Starting session: subsystem 'sftp'/)
  })

  it('two uploads of the same files to the same directory at once both succeed, intact', async () => {
    const dest = await destDir()
    const both = await packUploads('dist/\nbig.bin', workspace, work)
    const clients = await Promise.all([connectClient(sshd), connectClient(sshd)])
    try {
      await Promise.all(clients.map((c) => upload(c, both, join(dest, 'deep', 'er'))))
    } finally {
      for (const c of clients) c.end()
      both.dispose()
    }
    const expected = { ...(await treeOf(join(workspace, 'dist'))), 'big.bin': (await treeOf(workspace))['big.bin'] }
    assert.deepEqual(await treeOf(join(dest, 'deep', 'er')), expected)
    assert.deepEqual(await leftovers(dest), [])
  })

  it('an unwritable target fails with upload: and the server reason', async () => {
    const locked = await mkdtemp(join(work, 'locked-'))
    await chmod(locked, 0o555)
    const client = await connectClient(sshd)
    try {
      const err = await rejection(upload(client, tree, join(locked, 'site')))
      assert.match(err.message, /^upload: cannot create the directory .*locked-.*\/site on the host \(Permission denied\)$/)
      assert.equal(err.retryable, false)
    } finally {
      client.end()
    }
  })

  it('cancel: rejects upload: cancelled and removes the temp file being written', async () => {
    const dest = await destDir()
    const controller = new AbortController()
    const client = await connectClient(sshd)
    try {
      const err = await rejection(upload(client, big, dest, { signal: controller.signal, onProgress: (n) => n > 1 << 20 && controller.abort() }))
      assert.equal(err.message, 'upload: cancelled')
    } finally {
      client.end()
    }
    assert.ok(await eventually(async () => (await readdir(dest)).length === 0), `left: ${(await readdir(dest)).join(', ')}`)
  })
})

describe('upload to a host with neither tar nor SFTP', { skip: !requireSshd() && 'sshd not installed' }, () => {
  it('fails with upload: naming both, not retryable', async () => {
    const sshd = await startSshd({ user, hostKeyTypes: ['ed25519'], extraConfig: ['SetEnv PATH=/nonexistent'] })
    const client = await connectClient(sshd)
    try {
      const err = await rejection(upload(client, tree, await destDir()))
      assert.match(
        err.message,
        /^upload: the host has no tar command and no SFTP server \(ssh-fanout: tar: command not found; .*sftp.*\); install tar there, or enable its SFTP subsystem$/,
      )
      assert.equal(err.retryable, false)
    } finally {
      client.end()
      await sshd.stop()
    }
  })
})
