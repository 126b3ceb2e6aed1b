/**
 * packUploads: which files the `upload` patterns select, under which names, with which
 * modes and link targets, the input errors, and memory while packing a big file.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { extract } from 'tar-stream'
import { packUploads, UploadInputError } from '../../src/action/upload/upload-files.js'

const execFileP = promisify(execFile)

interface Listed {
  type: string
  mode: string
  /** sha256 of a file's content, or a symlink's target */
  detail: string
}

/** name -> type, mode (octal) and content hash / link target, read back from the archive. */
async function list(archivePath: string): Promise<Record<string, Listed>> {
  const out: Record<string, Listed> = {}
  const tar = extract()
  createReadStream(archivePath).pipe(tar)
  for await (const entry of tar) {
    const h = entry.header
    const hash = createHash('sha256')
    for await (const chunk of entry) hash.update(chunk as Buffer)
    const detail = h.type === 'symlink' ? `-> ${h.linkname}` : h.type === 'file' ? hash.digest('hex').slice(0, 12) : ''
    assert.ok(!(h.name in out), `${h.name} packed twice`)
    out[h.name] = { type: h.type, mode: h.mode.toString(8), detail }
  }
  return out
}

async function names(patterns: string, workspace: string, tmp: string): Promise<string[]> {
  const packed = await packUploads(patterns, workspace, tmp)
  try {
    return Object.keys(await list(packed.archivePath))
  } finally {
    packed.dispose()
  }
}

async function inputError(p: Promise<unknown>): Promise<UploadInputError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof UploadInputError, `expected an UploadInputError, got ${String(err)}`)
    return err
  }
  assert.fail('expected an input error')
}

const sha = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex').slice(0, 12)

describe('packUploads', () => {
  let work: string
  let ws: string
  let tmp: string
  const logo = randomBytes(100_000)
  const longName = `${'d'.repeat(90)}/${'f'.repeat(120)}-ü.txt`

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ssh-fanout-pack-test-'))
    ws = join(work, 'ws')
    tmp = join(work, 'tmp')
    await mkdir(tmp)
    await mkdir(join(ws, 'dist', 'assets', 'img'), { recursive: true })
    await mkdir(join(ws, 'dist', 'empty'))
    await mkdir(join(ws, 'dist', 'd'.repeat(90)))
    await mkdir(join(ws, 'other'))
    await writeFile(join(ws, 'dist', 'index.html'), 'index')
    await writeFile(join(ws, 'dist', 'assets', 'app.js'), 'app')
    await writeFile(join(ws, 'dist', 'assets', 'app.js.map'), 'map')
    await writeFile(join(ws, 'dist', 'assets', 'img', 'logo.png'), logo)
    await writeFile(join(ws, 'dist', 'restart.sh'), '#!/bin/sh\n', { mode: 0o755 })
    await writeFile(join(ws, 'dist', longName), 'long')
    await symlink('index.html', join(ws, 'dist', 'home.html'))
    await symlink('../../../../etc/passwd', join(ws, 'dist', 'escape'))
    await symlink('/etc', join(ws, 'dist', 'etc'))
    await symlink('dist', join(ws, 'dist-link'))
    await writeFile(join(ws, 'other', 'index.html'), 'other index')
    await writeFile(join(ws, 'top.txt'), 'top')
  })
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('dist/ sends the contents with modes, symlinks as links (never followed), empty dirs, long and UTF-8 names', async () => {
    const packed = await packUploads('dist/', ws, tmp)
    try {
      assert.deepEqual(await list(packed.archivePath), {
        'assets/': { type: 'directory', mode: '755', detail: '' },
        'assets/app.js': { type: 'file', mode: '644', detail: sha('app') },
        'assets/app.js.map': { type: 'file', mode: '644', detail: sha('map') },
        'assets/img/': { type: 'directory', mode: '755', detail: '' },
        'assets/img/logo.png': { type: 'file', mode: '644', detail: sha(logo) },
        [`${'d'.repeat(90)}/`]: { type: 'directory', mode: '755', detail: '' },
        [longName]: { type: 'file', mode: '644', detail: sha('long') },
        'empty/': { type: 'directory', mode: '755', detail: '' },
        escape: { type: 'symlink', mode: '777', detail: '-> ../../../../etc/passwd' },
        etc: { type: 'symlink', mode: '777', detail: '-> /etc' },
        'home.html': { type: 'symlink', mode: '777', detail: '-> index.html' },
        'index.html': { type: 'file', mode: '644', detail: sha('index') },
        'restart.sh': { type: 'file', mode: '755', detail: sha('#!/bin/sh\n') },
      })
      assert.equal(packed.files, 6)
      assert.equal(packed.entries, 13)
      // GNU tar reads it too (pax names), and finds nothing outside
      const { stdout } = await execFileP('tar', ['-tf', packed.archivePath])
      assert.ok(stdout.includes(longName), stdout)
    } finally {
      packed.dispose()
    }
    assert.ok(!existsSync(packed.archivePath), 'dispose removes the archive')
  })

  it('dist sends the directory itself; ./dist, an absolute path inside the workspace and dist// read the same', async () => {
    const inside = await names('dist', ws, tmp)
    assert.ok(inside.includes('dist/') && inside.includes('dist/index.html') && inside.includes('dist/assets/img/logo.png'), inside.join(' '))
    assert.ok(inside.every((n) => n.startsWith('dist/')))
    assert.deepEqual(await names('./dist', ws, tmp), inside)
    assert.deepEqual(await names(join(ws, 'dist'), ws, tmp), inside)
    assert.deepEqual(await names('dist//', ws, tmp), await names('dist/', ws, tmp))
  })

  it('globs name files relative to the literal part of the pattern; ! lines exclude', async () => {
    assert.deepEqual(await names('dist/assets/*.js', ws, tmp), ['app.js'])
    assert.deepEqual(await names('dist/**/*.png', ws, tmp), ['assets/', 'assets/img/', 'assets/img/logo.png'])
    assert.deepEqual(await names('top.txt\ndist/index.html', ws, tmp), ['index.html', 'top.txt'])
    const excluded = await names('dist/\n!dist/**/*.map\n!dist/assets/img\n# a comment\n', ws, tmp)
    assert.ok(excluded.includes('assets/app.js'))
    assert.ok(!excluded.some((n) => n.endsWith('.map') || n.startsWith('assets/img')), excluded.join(' '))
    // an exclude only applies to the lines above it
    assert.ok((await names('!dist/index.html\ndist/', ws, tmp)).includes('index.html'))
  })

  it('a symlink to a directory is packed as a link; with a trailing slash it is refused, naming the pattern', async () => {
    const packed = await packUploads('dist-link\ntop.txt', ws, tmp)
    assert.deepEqual(await list(packed.archivePath), {
      'dist-link': { type: 'symlink', mode: '777', detail: '-> dist' },
      'top.txt': { type: 'file', mode: '644', detail: sha('top') },
    })
    packed.dispose()
    const err = await inputError(packUploads('dist-link/', ws, tmp))
    assert.equal(err.pattern, 'dist-link/')
    assert.match(
      err.message,
      /^upload pattern "dist-link\/" names .*dist-link, a symbolic link, which the upload never follows; name the directory it points to$/,
    )
  })

  it('input errors name the pattern and say what to do', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['dist/\nnope/*.js', 'nope/*.js', /^upload pattern "nope\/\*\.js" matches nothing in the workspace \(.*\); check the path$/],
      ['dist/index.html\n!dist/*.html', 'dist/index.html', /matches nothing .* once the ! lines after it are applied/],
      ['../secrets', '../secrets', /^upload pattern "\.\.\/secrets" points outside the workspace \(.*\); give paths relative to the workspace, inside it$/],
      ['dist/../../x', 'dist/../../x', /points outside the workspace/],
      ['/etc/passwd', '/etc/passwd', /points outside the workspace/],
      ['~/.ssh/id_rsa', '~/.ssh/id_rsa', /points outside the workspace/],
      ['top.txt/', 'top.txt/', /ends with \/ but .*top\.txt is not a directory; drop the \/ to send the file/],
      [
        'dist/index.html\nother/index.html',
        'other/index.html',
        /would send index\.html from .*other\/index\.html, but .*dist\/index\.html \(from "dist\/index\.html"\) lands at the same name/,
      ],
      ['!dist/x\n# only excludes', '!dist/x\n# only excludes', /holds no path to send/],
    ]
    for (const [patterns, pattern, message] of cases) {
      const err = await inputError(packUploads(patterns, ws, tmp))
      assert.equal(err.pattern, pattern, patterns)
      assert.match(err.message, message)
    }
  })

  it('an unreadable file is an input error naming the pattern', async (t) => {
    const dir = await mkdtemp(join(work, 'unreadable-'))
    await mkdir(join(dir, 'conf'))
    await writeFile(join(dir, 'conf', 'secret.key'), 'x', { mode: 0o000 })
    await writeFile(join(dir, 'conf', 'app.yml'), 'y')
    if (process.getuid?.() !== 0) {
      const err = await inputError(packUploads('conf', dir, tmp))
      assert.equal(err.pattern, 'conf')
      assert.match(
        err.message,
        /^upload pattern "conf" matches .*secret\.key, which cannot be read \(permission denied.*\); fix its permissions or exclude it \(!path\)$/,
      )
      return
    }
    // root reads everything: pack as nobody, in a child process
    if (!existsSync('/usr/bin/setpriv')) return t.skip('root without setpriv')
    await chmod(work, 0o755)
    await chmod(dir, 0o755)
    const out = await mkdtemp(join(work, 'out-'))
    await chmod(out, 0o777)
    const module = new URL('../../src/action/upload/upload-files.js', import.meta.url).href
    const script = `import(${JSON.stringify(module)}).then((m) => m.packUploads('conf', ${JSON.stringify(dir)}, ${JSON.stringify(out)})).then(
      () => console.log('{"ok":true}'), (e) => console.log(JSON.stringify({ name: e.name, pattern: e.pattern, message: e.message })))`
    const { stdout } = await execFileP('/usr/bin/setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ])
    const result = JSON.parse(
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1) ?? '{}',
    ) as Record<string, string>
    assert.equal(result.name, 'UploadInputError', stdout)
    assert.equal(result.pattern, 'conf')
    assert.match(
      result.message,
      /^upload pattern "conf" matches .*secret\.key, which cannot be read \(permission denied.*\); fix its permissions or exclude it \(!path\)$/,
    )
  })

  it('a pattern that leaves nothing to send, or an upload with no regular file, is an input error naming the pattern', async () => {
    const dir = await mkdtemp(join(work, 'nothing-'))
    await mkdir(join(dir, 'dist'))
    await mkdir(join(dir, 'maps'))
    await writeFile(join(dir, 'maps', 'app.js.map'), 'map')
    await writeFile(join(dir, 'app.js'), 'app')
    await mkdir(join(dir, 'only-dirs', 'a'), { recursive: true })
    await symlink('app.js', join(dir, 'link.js'))
    const cases: Array<[string, string, RegExp]> = [
      [
        'dist/',
        'dist/',
        /^upload pattern "dist\/" leaves nothing to send in .*dist \(the directory is empty: drop the \/ to send it itself\); check the path$/,
      ],
      ['app.js\ndist/**', 'dist/**', /^upload pattern "dist\/\*\*" leaves nothing to send in .*dist; check the path$/],
      [
        'app.js\nmaps/**\n!maps/*.map',
        'maps/**',
        /^upload pattern "maps\/\*\*" leaves nothing to send in .*maps once the ! lines after it are applied; check the path$/,
      ],
      ['only-dirs', 'only-dirs', /^upload "only-dirs" sends no regular file, only directories or symbolic links \(2 entries\); add a file to send$/],
      ['only-dirs\nlink.js', 'only-dirs\nlink.js', /^upload "only-dirs", "link\.js" sends no regular file/],
    ]
    for (const [patterns, pattern, message] of cases) {
      const err = await inputError(packUploads(patterns, dir, tmp))
      assert.equal(err.pattern, pattern, patterns)
      assert.match(err.message, message)
    }
    // an empty directory still goes along with a file
    assert.deepEqual(await names('dist\napp.js', dir, tmp), ['app.js', 'dist/'])
  })

  it('reads nothing through a symlinked parent directory (out -> /elsewhere); links inside the upload stay links', async () => {
    const dir = await mkdtemp(join(work, 'parent-link-'))
    const elsewhere = await mkdtemp(join(work, 'elsewhere-'))
    await mkdir(join(elsewhere, 'sub'))
    await writeFile(join(elsewhere, 'creds.json'), '{"token":"x"}')
    await writeFile(join(elsewhere, 'sub', 'creds.json'), '{"token":"y"}')
    await symlink(elsewhere, join(dir, 'out'))
    await mkdir(join(dir, 'dist'))
    await writeFile(join(dir, 'dist', 'app.js'), 'app')
    await symlink(join(elsewhere, 'creds.json'), join(dir, 'dist', 'creds.json'))
    for (const pattern of ['out/creds.json', 'out/sub/*.json', 'out/sub/', 'out/sub']) {
      const err = await inputError(packUploads(`dist/app.js\n${pattern}`, dir, tmp))
      assert.equal(err.pattern, pattern)
      assert.match(
        err.message,
        /really lies at .*elsewhere-.*, through a symbolic link, outside the workspace .*; send files inside the workspace, or exclude it \(!path\)$/,
      )
    }
    const packed = await packUploads('dist/', dir, tmp)
    try {
      assert.deepEqual(await list(packed.archivePath), {
        'app.js': { type: 'file', mode: '644', detail: sha('app') },
        'creds.json': { type: 'symlink', mode: '777', detail: `-> ${join(elsewhere, 'creds.json')}` },
      })
    } finally {
      packed.dispose()
    }
  })

  it('keeps directories whose names start with .. (..well-known, Kubernetes ..data) under dir/', async () => {
    const dir = await mkdtemp(join(work, 'dotdot-'))
    await mkdir(join(dir, 'site', '..well-known'), { recursive: true })
    await mkdir(join(dir, 'site', '..data'))
    await writeFile(join(dir, 'site', '..well-known', 'security.txt'), 'contact')
    await writeFile(join(dir, 'site', '..data', 'config'), 'cfg')
    await writeFile(join(dir, 'site', 'index.html'), 'index')
    assert.deepEqual(await names('site/', dir, tmp), ['..data/', '..data/config', '..well-known/', '..well-known/security.txt', 'index.html'])
    assert.deepEqual(await names('site/..well-known/', dir, tmp), ['security.txt'])
  })

  it('a big file is streamed into the archive, not held in memory', async () => {
    const size = 48 * 1024 * 1024
    const big = join(ws, 'big.bin')
    const out = createWriteStream(big)
    const block = randomBytes(1 << 20)
    for (let i = 0; i < size >> 20; i++) if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()))
    await new Promise<void>((resolve) => out.end(() => resolve()))
    global.gc?.()
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
    let packed
    try {
      packed = await packUploads('big.bin', ws, tmp)
    } finally {
      clearInterval(sampler)
      await rm(big)
    }
    peak = Math.max(peak, process.memoryUsage().rss)
    try {
      assert.ok(packed.bytes > size, String(packed.bytes))
      process.stderr.write(`# RSS grew by ${((peak - before) / 1048576).toFixed(1)} MB while packing\n`)
      // streaming settles around 30 MB here (buffers awaiting GC), whatever the size; holding the file would pass its size
      assert.ok(peak - before < size * 0.9, `RSS grew by ${((peak - before) / 1048576).toFixed(1)} MB while packing a ${size >> 20} MB file`)
    } finally {
      packed.dispose()
    }
  })
})
