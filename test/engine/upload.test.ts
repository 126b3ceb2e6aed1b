/**
 * uploadArchive against real sshd: tar over an exec channel (the default fixture has no
 * SFTP subsystem), the SFTP fallback (a login whose PATH has no tar), failures, a
 * connection cut mid-upload, cancel, concurrent uploads to the same directory.
 * The "remote" is this machine, so the tests look at the destination directly.
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync } from 'node:fs'
import { chmod, chown, link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type ssh2 from 'ssh2'
import { packUploads, type PackedUpload } from '../../src/action/upload/upload-files.js'
import {
  archiveFrame,
  listArchiveDirectories,
  resolveRemoteDir,
  uploadArchive,
  UploadError,
  UPLOAD_SCRIPT,
  type UploadOptions,
} from '../../src/engine/prepare/upload.js'
import { loginUser } from '../helpers/fleet.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'
import { connectClient, leftovers, cuttingProxy, stallingProxy, treeOf } from '../helpers/upload.js'
import { FAIL_AFTER_MS, whenDirSettles } from '../helpers/wait.js'

const execFileP = promisify(execFile)
const BIG = 12 * 1024 * 1024
const POSH = '/usr/bin/posh'

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

/** Offset in a tar file of the header of the entry named `name` (the end of the entries before it). */
async function entryOffset(archivePath: string, name: string): Promise<number> {
  const archive = await readFile(archivePath)
  for (let at = 0; at + 512 <= archive.length;) {
    const header = archive.subarray(at, at + 512)
    const entryName = header.subarray(0, 100).toString().replace(/\0.*$/s, '')
    if (entryName === name) return at
    if (entryName === '') break
    at += 512 + Math.ceil(parseInt(header.subarray(124, 136).toString(), 8) / 512) * 512
  }
  throw new Error(`no entry ${name} in ${archivePath}`)
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
})

describe('the remote script', () => {
  // posh (Debian's policy-compliant shell) has no bash or ksh extensions: a bashism fails there
  it(
    'is plain sh: it unpacks and moves a tree into place under posh, its inner sh -c snippets too',
    { skip: !existsSync(POSH) && `${POSH} not installed` },
    async (t) => {
      if (!tree) return t.skip('sshd not installed: no packed tree')
      const dest = await mkdtemp(join(work, 'posh-'))
      const script = UPLOAD_SCRIPT.replaceAll('/bin/sh -c', `${POSH} -c`)
      assert.equal(script.split(`${POSH} -c`).length, 3, 'the directory and move snippets run under posh')
      const child = spawn(POSH, ['-c', script, 'ssh-fanout-upload', dest, 'posh0test', 'MARK', 'ER'], { stdio: ['pipe', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.stdout.resume()
      // the stream as uploadArchive sends it: the directory list, the archive's entries, END and the end blocks
      const { head, tail } = await archiveFrame(await listArchiveDirectories(tree.archivePath), 'posh0test')
      const entries = await readFile(tree.archivePath)
      child.stdin.end(Buffer.concat([head, entries.subarray(0, entries.length - 1024), tail]))
      const [code] = (await once(child, 'close')) as [number | null]
      assert.equal(code, 0, stderr)
      assert.equal(stderr, '\nMARKER\n', 'nothing on stderr but the marker line')
      assert.deepEqual(await treeOf(dest), await treeOf(join(workspace, 'dist')))
    },
  )
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
    const logFrom = sshd.log().length
    const client = await connectClient(sshd)
    try {
      await assert.rejects(
        new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s)))),
        /^Error: Unable to start subsystem: sftp$/,
      )
    } finally {
      client.end()
    }
    // sshd itself says why: no sftp subsystem is configured (not a refused channel or a session limit)
    await sshd.waitForLog(/subsystem request for sftp by user \S+ failed, subsystem not found/, FAIL_AFTER_MS, logFrom)
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
      assert.ok(await whenDirSettles(dest, async () => (await leftovers(dest)).length === 0), `staging left: ${(await leftovers(dest)).join(', ')}`)
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
      assert.ok(await whenDirSettles(dest, async () => (await readdir(dest)).length === 0), `left: ${(await readdir(dest)).join(', ')}`)
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

  it('cancel mid-file: rejects upload: cancelled, removes the temp file being written, renames nothing into place', async () => {
    const dest = await destDir()
    await writeFile(join(dest, 'big.bin'), 'previous release')
    await chown(join(dest, 'big.bin'), owner.uid, owner.gid)
    // the server gets the first MiB of the connection, then nothing until resume(): the 12 MiB file cannot be complete when the cancel lands
    const proxy = await stallingProxy(sshd, 1 << 20)
    const client = await connectClient(sshd, proxy)
    const controller = new AbortController()
    const logFrom = sshd.log().length
    try {
      const uploading = rejection(upload(client, big, dest, { signal: controller.signal }))
      await proxy.stalled
      // writes go out only once the temp file is open: it is there, being written
      const during = await readdir(dest)
      assert.equal(during.length, 2, `in ${dest}: ${during.join(', ')}`)
      assert.ok(
        during.some((n) => /^\.ssh-fanout-[0-9a-f]{12}-[0-9a-f]{8}$/.test(n)),
        `no temp file in ${dest}: ${during.join(', ')}`,
      )
      controller.abort()
      proxy.resume()
      const err = await uploading
      assert.equal(err.message, 'upload: cancelled')
      assert.equal(err.retryable, false)
      // the upload closed its SFTP channel; once the server's SFTP session has ended, it has carried out every request it got
      await sshd.waitForLog(/Starting session: subsystem 'sftp' .* id (\d+)\s[^]*Close session: .* id \1\s/, FAIL_AFTER_MS, logFrom)
    } finally {
      client.end()
      await proxy.close()
    }
    assert.deepEqual(await readdir(dest), ['big.bin'])
    assert.equal(await readFile(join(dest, 'big.bin'), 'utf8'), 'previous release')
  })
})

describe('upload with tar, cancelled between two files', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let sshd: Sshd
  let pair: PackedUpload
  let fifo: string
  let reached: string
  before(async () => {
    // pair/: a.txt, then the 12 MiB z.bin (a hard link to big.bin)
    await mkdir(join(workspace, 'pair'))
    await writeFile(join(workspace, 'pair', 'a.txt'), 'new release\n')
    await link(join(workspace, 'big.bin'), join(workspace, 'pair', 'z.bin'))
    pair = await packUploads('pair/', workspace, work)
    // where a.txt ends in the stream the host reads: behind the directory list sent first
    const { head } = await archiveFrame(await listArchiveDirectories(pair.archivePath), '000000000000')
    const firstFileEnd = head.length + (await entryOffset(pair.archivePath, 'z.bin'))
    // a tar on the host's PATH that passes the archive on up to the end of a.txt, says so, and ends it there once the test writes to the fifo
    const bin = join(work, 'tar-bin')
    reached = join(work, 'tar-reached')
    fifo = join(bin, 'go')
    await mkdir(bin)
    await mkdir(reached, { mode: 0o777 })
    await chmod(reached, 0o777)
    execFileSync('mkfifo', ['-m', '666', fifo])
    const realTar = execFileSync('sh', ['-c', 'command -v tar'], { encoding: 'utf8' }).trim()
    await writeFile(
      join(bin, 'tar'),
      `#!/bin/sh\nexec 3<>'${fifo}'\n{ head -c ${firstFileEnd}; : > '${join(reached, 'a.txt')}'; read -r _ <&3; } | '${realTar}' "$@"\n`,
      { mode: 0o755 },
    )
    sshd = await startSshd({ user, hostKeyTypes: ['ed25519'], extraConfig: [`SetEnv PATH=${bin}:/usr/bin:/bin`] })
  })
  after(async () => {
    pair?.dispose()
    await sshd?.stop()
  })

  // tar exits 0 on an archive cut at an entry boundary: the script moves nothing unless the END entry arrived
  it('rejects upload: cancelled and places neither file: the host never sees the archive end, so nothing is renamed into place', async () => {
    const dest = await destDir()
    await writeFile(join(dest, 'a.txt'), 'previous release')
    await chown(join(dest, 'a.txt'), owner.uid, owner.gid)
    const controller = new AbortController()
    const client = await connectClient(sshd)
    try {
      const uploading = rejection(upload(client, pair, dest, { signal: controller.signal }))
      assert.ok(await whenDirSettles(reached, () => existsSync(join(reached, 'a.txt'))), 'the host never read a.txt')
      controller.abort()
      const err = await uploading
      assert.equal(err.message, 'upload: cancelled')
    } finally {
      client.end()
      // the archive the host's tar reads ends after a.txt, at an entry boundary, as when the cancel lands just there
      await writeFile(fifo, 'go\n', { flag: 'r+' })
    }
    assert.ok(await whenDirSettles(dest, async () => (await leftovers(dest)).length === 0), `staging left: ${(await leftovers(dest)).join(', ')}`)
    assert.deepEqual(await readdir(dest), ['a.txt'])
    assert.equal(await readFile(join(dest, 'a.txt'), 'utf8'), 'previous release', 'a.txt was renamed into place by a cancelled upload')
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
