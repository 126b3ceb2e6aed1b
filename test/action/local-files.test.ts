/** local-files.ts: the one rule for local files the action reads or writes, on a real file system. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  checkEntryInside,
  isInside,
  loadScriptFile,
  LocalFileError,
  MAX_SCRIPT_BYTES,
  openForWrite,
  openRegularFile,
  readRegularFile,
  realPathOf,
  resolveInWorkspace,
  resolveLogDir,
  writeNewFile,
} from '../../src/action/local-files.js'

function refused(fn: () => unknown, reason: LocalFileError['reason'], message?: RegExp): LocalFileError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof LocalFileError, `expected a LocalFileError, got ${String(err)}`)
    assert.equal(err.reason, reason, err.message)
    if (message) assert.match(err.message, message)
    return err
  }
  assert.fail(`expected a LocalFileError (${reason})`)
}

describe('local-files', () => {
  let root: string
  let ws: string
  let outside: string
  before(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'ssh-fanout-local-files-')))
    ws = join(root, 'ws')
    outside = join(root, 'outside')
    mkdirSync(join(ws, 'scripts'), { recursive: true })
    mkdirSync(join(ws, '..well-known'))
    mkdirSync(outside)
    writeFileSync(join(ws, 'scripts', 'deploy.sh'), '#!/bin/bash\necho deploy\n')
    writeFileSync(join(outside, 'secret.txt'), 'not for hosts')
    symlinkSync('scripts/deploy.sh', join(ws, 'current.sh'))
    symlinkSync(join(outside, 'secret.txt'), join(ws, 'evil.sh'))
    symlinkSync('/proc/self/environ', join(ws, 'environ.sh'))
    symlinkSync(outside, join(ws, 'out'))
    symlinkSync(join(root, 'nowhere'), join(ws, 'dangling'))
    execFileSync('mkfifo', [join(ws, 'fifo')])
  })
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('isInside: a name starting with .. (..well-known, ..data) is inside; .. and ../x are not', () => {
    assert.ok(isInside('/ws', '/ws'))
    assert.ok(isInside('/ws', '/ws/..well-known/x'))
    assert.ok(isInside('/ws', '/ws/..data'))
    assert.ok(!isInside('/ws', '/'))
    assert.ok(!isInside('/ws', '/ws2'))
    assert.ok(!isInside('/ws/a', '/ws/b'))
  })

  it('realPathOf resolves symlinks of the existing part and keeps the missing rest; a dangling link is refused', () => {
    assert.equal(realPathOf(join(ws, 'current.sh')), join(ws, 'scripts', 'deploy.sh'))
    assert.equal(realPathOf(join(ws, 'out', 'new', 'file')), join(outside, 'new', 'file'))
    assert.equal(realPathOf(join(ws, 'missing', 'deeper')), join(ws, 'missing', 'deeper'))
    refused(() => realPathOf(join(ws, 'dangling', 'x')), 'symlink', /dangling is a symbolic link to a path that does not exist/)
  })

  it('resolveInWorkspace: real path inside the real workspace; absolute outside only where allowed', () => {
    const rel = { absoluteAllowed: false }
    assert.deepEqual(resolveInWorkspace('current.sh', ws, rel), { full: join(ws, 'current.sh'), real: join(ws, 'scripts', 'deploy.sh') })
    assert.equal(resolveInWorkspace('..well-known/x', ws, rel).full, join(ws, '..well-known', 'x'))
    refused(() => resolveInWorkspace('../outside/secret.txt', ws, rel), 'outside', /is outside the workspace/)
    refused(() => resolveInWorkspace('evil.sh', ws, rel), 'outside', /evil\.sh leads through a symbolic link to .*outside\/secret\.txt, outside the workspace/)
    refused(() => resolveInWorkspace('environ.sh', ws, rel), 'outside', /leads through a symbolic link to \/proc\//)
    refused(() => resolveInWorkspace('out/secret.txt', ws, rel), 'outside')
    // an absolute path inside the workspace follows the workspace rule, allowed or not
    refused(() => resolveInWorkspace(join(ws, 'evil.sh'), ws, { absoluteAllowed: true }), 'outside')
    refused(() => resolveInWorkspace(join(outside, 'secret.txt'), ws, rel), 'absolute')
    assert.equal(resolveInWorkspace(join(outside, 'secret.txt'), ws, { absoluteAllowed: true }).real, join(outside, 'secret.txt'))
  })

  it('resolveInWorkspace with noSymlinks refuses a path that is or passes through a symlink, even one pointing inside', () => {
    const opts = { absoluteAllowed: true, noSymlinks: true }
    assert.equal(resolveInWorkspace('logs/new', ws, opts).full, join(ws, 'logs', 'new'))
    refused(() => resolveInWorkspace('out', ws, opts), 'symlink', /out is a symbolic link, which is not followed/)
    refused(() => resolveInWorkspace('out/logs', ws, opts), 'symlink')
    refused(() => resolveInWorkspace('current.sh', ws, opts), 'symlink')
    refused(() => resolveInWorkspace(join(ws, 'out', 'logs'), ws, opts), 'symlink')
  })

  it('readRegularFile reads at most the cap whatever st.size says (0 for /proc), and refuses links, directories and FIFOs without blocking', () => {
    assert.equal(readRegularFile(join(ws, 'scripts', 'deploy.sh'), 100).toString(), '#!/bin/bash\necho deploy\n')
    assert.equal(readRegularFile(join(ws, 'scripts', 'deploy.sh'), 24).length, 24)
    refused(() => readRegularFile(join(ws, 'scripts', 'deploy.sh'), 23), 'too-big')
    assert.equal(lstatSync('/proc/self/status').size, 0)
    refused(() => readRegularFile('/proc/self/status', 10), 'too-big')
    refused(() => readRegularFile(join(ws, 'current.sh'), 100), 'symlink')
    refused(() => readRegularFile(join(ws, 'scripts'), 100), 'not-regular', /is a directory, not a regular file/)
    refused(() => readRegularFile(join(ws, 'fifo'), 100), 'not-regular', /is a named pipe/)
    refused(() => readRegularFile(join(ws, 'nope'), 100), 'missing')
    const big = join(root, 'big.bin')
    writeFileSync(big, Buffer.alloc(3 * 1024 * 1024 + 5, 1))
    assert.equal(readRegularFile(big, 3 * 1024 * 1024 + 5).length, 3 * 1024 * 1024 + 5)
    refused(() => readRegularFile(big, 3 * 1024 * 1024 + 4), 'too-big')
  })

  it('openRegularFile opens once and describes the file by fstat on that descriptor', async () => {
    const { handle, size, stats } = await openRegularFile(join(ws, 'scripts', 'deploy.sh'))
    try {
      assert.equal(size, 24)
      assert.ok(stats.isFile())
    } finally {
      await handle.close()
    }
    await assert.rejects(openRegularFile(join(ws, 'evil.sh')), (err: unknown) => err instanceof LocalFileError && err.reason === 'symlink')
    await assert.rejects(openRegularFile(join(ws, 'fifo')), (err: unknown) => err instanceof LocalFileError && err.reason === 'not-regular')
  })

  it('openForWrite and writeNewFile replace a symlink or hard link of the name, never writing through it', async () => {
    const dir = join(root, 'logs')
    mkdirSync(dir)
    const target = join(outside, 'gitconfig')
    writeFileSync(target, '[user]\n\tname = me\n')
    symlinkSync(target, join(dir, 'web1.log'))
    linkSync(target, join(dir, 'web2.log'))
    const fh = await openForWrite(join(dir, 'web1.log'))
    await fh.write('host output\n')
    await fh.close()
    writeNewFile(join(dir, 'web2.log'), 'other output\n', 0o600)
    writeNewFile(join(dir, 'fresh.json'), '[]')
    assert.equal(readFileSync(target, 'utf8'), '[user]\n\tname = me\n')
    assert.ok(lstatSync(join(dir, 'web1.log')).isFile())
    assert.equal(readFileSync(join(dir, 'web1.log'), 'utf8'), 'host output\n')
    assert.equal(readFileSync(join(dir, 'web2.log'), 'utf8'), 'other output\n')
    assert.equal(lstatSync(join(dir, 'web2.log')).mode & 0o777, 0o600)
    assert.equal(readFileSync(join(dir, 'fresh.json'), 'utf8'), '[]')
  })

  it('checkEntryInside refuses an entry whose parent directory really lies outside; the entry itself may be a link', () => {
    const realWs = realPathOf(ws)
    const cache = new Map<string, string>()
    assert.equal(checkEntryInside(join(ws, 'evil.sh'), realWs, cache), realWs)
    assert.equal(checkEntryInside(join(ws, 'scripts', 'deploy.sh'), realWs, cache), join(realWs, 'scripts'))
    refused(
      () => checkEntryInside(join(ws, 'out', 'secret.txt'), realWs, cache),
      'outside',
      /out\/secret\.txt really lies at .*outside\/secret\.txt, through a symbolic link, outside the workspace/,
    )
  })

  it('loadScriptFile: a link inside the workspace is read; a link out of it (/proc/self/environ) is refused; absolute paths are read as given', () => {
    assert.equal(loadScriptFile('current.sh', ws).text.toString(), '#!/bin/bash\necho deploy\n')
    assert.deepEqual(loadScriptFile('current.sh', ws).interpreter, ['/bin/bash'])
    assert.throws(
      () => loadScriptFile('environ.sh', ws),
      /^Error: "environ\.sh" is refused: .*environ\.sh leads through a symbolic link to \/proc\/.*, outside the workspace/,
    )
    assert.throws(() => loadScriptFile('evil.sh', ws), /is refused: .*outside the workspace .*; give the path of a script in the repository/)
    assert.throws(() => loadScriptFile('out/secret.txt', ws), /is refused/)
    assert.throws(() => loadScriptFile('scripts', ws), /"scripts" is not a regular file \(relative to the workspace/)
    assert.throws(() => loadScriptFile('fifo', ws), /"fifo" is not a regular file/)
    assert.throws(() => loadScriptFile('nope.sh', ws), /"nope\.sh" does not exist \(relative to the workspace/)
    assert.equal(loadScriptFile(join(outside, 'secret.txt'), ws).text.toString(), 'not for hosts')
    assert.equal(MAX_SCRIPT_BYTES, 16 * 1024 * 1024)
  })

  it('resolveLogDir: inside the workspace with no symlink on its path, or absolute outside it', () => {
    assert.equal(resolveLogDir('deploy-logs', ws), join(ws, 'deploy-logs'))
    assert.equal(resolveLogDir(join(outside, 'logs'), ws), join(outside, 'logs'))
    assert.throws(() => resolveLogDir('out', ws), /"out" is refused: .*out is a symbolic link, which is not followed; give a directory inside the workspace/)
    assert.throws(() => resolveLogDir('out/logs', ws), /is refused/)
    assert.throws(() => resolveLogDir('../escape', ws), /"\.\.\/escape" is refused: .*is outside the workspace/)
    assert.ok(!existsSync(join(outside, 'logs')), 'resolving creates nothing')
  })
})
