/**
 * The `upload` input: patterns matched on the runner once, packed once into a tar file
 * that src/engine/upload.ts streams to every host.
 *
 * Naming (the rule rsync and Ansible use): `dist/` sends the contents of dist, `dist`
 * sends the directory itself. More generally an entry's name is its path relative to
 * the pattern's literal part: the matched directory itself for a trailing slash, else
 * the directory holding the first segment that has a glob character (for a plain path,
 * its parent). So `build/*.js` sends `a.js`, `src/**` + `/*.ts` keeps the tree under
 * src, `config/app.yml` sends `app.yml`. `!exclude` lines remove matches of the lines
 * above them, as @actions/glob reads them.
 *
 * Symlinks are packed as symlinks and never followed; modes are kept (directories always
 * get owner rwx, so the upload can fill and clean them); empty directories are kept.
 * File contents are streamed from disk into the archive, never held in memory.
 */
import { once } from 'node:events'
import { createWriteStream, rmSync } from 'node:fs'
import { access, constants, lstat, mkdtemp, readlink } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import * as glob from '@actions/glob'
import { pack, type Pack } from 'tar-stream'
import { checkEntryInside, isInside, LocalFileError, openRegularFile, realPathOf } from '../local-files.js'

export interface PackedUpload {
  archivePath: string
  /** size of the archive file */
  bytes: number
  /** regular files packed */
  files: number
  /** entries packed (files, directories, symlinks), for the log */
  entries: number
  /** removes the archive (and its temp dir); idempotent */
  dispose(): void
}

export class UploadInputError extends Error {
  constructor(
    readonly pattern: string,
    message: string,
  ) {
    super(message)
    this.name = 'UploadInputError'
  }
}

interface Line {
  /** as the user wrote it (trimmed), for messages */
  text: string
  negate: boolean
  /** absolute @actions/glob pattern */
  glob: string
  /** absolute literal directory entry names are relative to (trailing-slash patterns: each matched directory instead) */
  base: string
  trailingSlash: boolean
}

interface Entry {
  name: string
  source: string
  kind: 'file' | 'directory' | 'symlink'
  /** the pattern line that brought it in */
  pattern: string
}

const IS_WINDOWS = process.platform === 'win32'

/** @actions/glob's escaping of literal text (Pattern.globEscape). */
function globEscape(s: string): string {
  return (IS_WINDOWS ? s : s.replace(/\\/g, '\\\\'))
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]')
}

/** The literal text of a pattern segment, or null when it holds a glob character. */
function literal(segment: string): string | null {
  let out = ''
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]
    if (c === '\\' && !IS_WINDOWS && i + 1 < segment.length) out += segment[++i]
    else if (c === '*' || c === '?' || c === '[') return null
    else out += c
  }
  return out
}

function parseLines(patterns: string, workspace: string): Line[] {
  const lines: Line[] = []
  for (const raw of patterns.split(/\r?\n|\r/)) {
    const text = raw.trim()
    if (text === '' || text.startsWith('#')) continue
    let rest = text
    let negate = false
    while (rest.startsWith('!')) {
      negate = !negate
      rest = rest.slice(1).trim()
    }
    const outside = (): UploadInputError =>
      new UploadInputError(text, `upload pattern "${text}" points outside the workspace (${workspace}); give paths relative to the workspace, inside it`)
    if (rest === '') throw new UploadInputError(text, `upload pattern "${text}" names no path; write a path or glob relative to the workspace`)
    if (rest === '~' || rest.startsWith('~/')) throw outside()
    const normalized = IS_WINDOWS ? rest.replace(/\\/g, '/') : rest
    const absolute = isAbsolute(rest)
    const segments = normalized.split('/').filter((s) => s !== '' && s !== '.')
    if (segments.some((s) => s === '..')) throw outside()
    // the literal part: segments before the first one with a glob character
    const firstGlob = segments.findIndex((s) => literal(s) === null)
    const literalSegments = (firstGlob === -1 ? segments : segments.slice(0, firstGlob)).map((s) => literal(s) as string)
    const rootText = absolute && !IS_WINDOWS ? '/' : ''
    const literalPath = absolute ? resolve(rootText + literalSegments.join('/')) : resolve(workspace, ...literalSegments)
    if (!isInside(workspace, literalPath)) throw outside()
    // `.` or `./` alone: the workspace's contents
    const trailingSlash = normalized.endsWith('/') || segments.length === 0
    const body = absolute ? rootText + segments.join('/') : [globEscape(workspace), ...segments].join('/')
    lines.push({
      text,
      negate,
      glob: trailingSlash ? `${body}/` : body,
      base: trailingSlash || firstGlob !== -1 ? literalPath : dirname(literalPath),
      trailingSlash,
    })
  }
  return lines
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e.code === 'EACCES' || e.code === 'EPERM') return `permission denied${e.path ? `: ${e.path}` : ''}`
  return e.message
}

async function globAll(patterns: string[], implicitDescendants: boolean): Promise<string[]> {
  const globber = await glob.create(patterns.join('\n'), {
    followSymbolicLinks: false,
    implicitDescendants,
    matchDirectories: true,
    omitBrokenSymbolicLinks: false,
  })
  return globber.glob()
}

function entryName(from: string, path: string): string {
  return relative(from, path).split(sep).join('/')
}

/** Matches every include line (with the `!` lines after it) and lists what to pack, parents first. */
async function collect(lines: Line[], workspace: string): Promise<Entry[]> {
  const entries = new Map<string, Entry>()
  const add = (entry: Entry): void => {
    const seen = entries.get(entry.name)
    if (!seen) return void entries.set(entry.name, entry)
    if (seen.source === entry.source || (seen.kind === 'directory' && entry.kind === 'directory')) return
    throw new UploadInputError(
      entry.pattern,
      `upload pattern "${entry.pattern}" would send ${entry.name} from ${entry.source}, but ${seen.source} (from "${seen.pattern}") lands at the same name; ` +
        'change or exclude one of them (!path)',
    )
  }
  const kindOf = async (path: string, pattern: string): Promise<Entry['kind']> => {
    const st = await lstat(path)
    if (st.isSymbolicLink()) return 'symlink'
    if (st.isDirectory()) return 'directory'
    if (st.isFile()) return 'file'
    throw new UploadInputError(pattern, `upload pattern "${pattern}" matches ${path}, which is not a file, directory or symbolic link; exclude it (!path)`)
  }

  for (const [index, line] of lines.entries()) {
    if (line.negate) continue
    const excludes = lines.slice(index + 1).filter((l) => l.negate)
    const patterns = [line.glob, ...excludes.map((l) => `!${l.glob}`)]
    let roots: string[]
    let all: string[]
    try {
      roots = await globAll(patterns, false)
      all = await globAll(patterns, true)
    } catch (err) {
      throw new UploadInputError(line.text, `upload pattern "${line.text}" cannot be read: ${describeError(err)}`)
    }
    if (roots.length === 0) {
      let why = `matches nothing in the workspace (${workspace})${excludes.length > 0 ? ' once the ! lines after it are applied' : ''}; check the path`
      if (line.trailingSlash) {
        const st = await lstat(line.base).catch(() => null)
        if (st?.isSymbolicLink()) why = `names ${line.base}, a symbolic link, which the upload never follows; name the directory it points to`
        else if (st && !st.isDirectory()) why = `ends with / but ${line.base} is not a directory; drop the / to send the file`
      }
      throw new UploadInputError(line.text, `upload pattern "${line.text}" ${why}`)
    }
    const rootSet = new Set(roots)
    let matched = 0
    for (const path of all) {
      if (!line.trailingSlash) {
        if (path === line.base) continue
        add({ name: entryName(line.base, path), source: path, kind: await kindOf(path, line.text), pattern: line.text })
        matched++
        continue
      }
      // trailing slash: relative to each matched directory above it
      for (let dir = dirname(path); isInside(line.base, dir); dir = dirname(dir)) {
        if (rootSet.has(dir)) {
          add({ name: entryName(dir, path), source: path, kind: await kindOf(path, line.text), pattern: line.text })
          matched++
        }
        if (dir === dirname(dir)) break
      }
    }
    if (line.trailingSlash) {
      for (const root of roots) {
        const st = await lstat(root)
        if (!st.isDirectory()) throw new UploadInputError(line.text, `upload pattern "${line.text}" ends with / but ${root} is not a directory; drop the /`)
      }
    }
    if (matched === 0) {
      // e.g. an empty dist/, dist/** on an empty directory, maps/** with !maps/*.map
      const hint =
        excludes.length > 0 ? ' once the ! lines after it are applied' : line.trailingSlash ? ' (the directory is empty: drop the / to send it itself)' : ''
      throw new UploadInputError(line.text, `upload pattern "${line.text}" leaves nothing to send in ${line.base}${hint}; check the path`)
    }
  }

  // every parent directory gets its own entry (mode kept), before its contents
  for (const entry of [...entries.values()]) {
    let name = entry.name
    let source = entry.source
    while (name.includes('/')) {
      name = name.slice(0, name.lastIndexOf('/'))
      source = dirname(source)
      if (!entries.has(name)) entries.set(name, { name, source, kind: 'directory', pattern: entry.pattern })
    }
  }
  return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** Every entry really lies inside the workspace: a glob follows a symlinked parent directory (out -> /elsewhere, out/creds.json). */
function checkRealPaths(entries: Entry[], workspace: string): void {
  const realWorkspace = realPathOf(workspace)
  const cache = new Map<string, string>()
  for (const entry of entries) {
    try {
      checkEntryInside(entry.source, realWorkspace, cache)
    } catch (err) {
      if (!(err instanceof LocalFileError)) throw err
      throw new UploadInputError(
        entry.pattern,
        `upload pattern "${entry.pattern}" matches ${err.message}; send files inside the workspace, or exclude it (!path)`,
      )
    }
  }
}

async function addEntry(tar: Pack, entry: Entry): Promise<void> {
  // a file is opened once (never through a symlink) and described by fstat on that descriptor
  const file = entry.kind === 'file' ? await openRegularFile(entry.source) : null
  const st = file?.stats ?? (await lstat(entry.source))
  const header: Parameters<Pack['entry']>[0] = { name: entry.name, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0, type: entry.kind, size: 0 }
  if (entry.kind === 'directory') {
    header.name = `${entry.name}/`
    header.mode = (st.mode & 0o7777) | 0o700
  } else if (entry.kind === 'symlink') {
    header.linkname = await readlink(entry.source)
    header.mode = 0o777
  } else {
    header.size = st.size
  }
  const done = new Promise<void>((resolve, reject) => {
    const sink = tar.entry(header, (err) => (err ? reject(err) : resolve()))
    if (!file) return
    if (st.size === 0) return void file.handle.close().then(() => sink.end(undefined), reject)
    void (async () => {
      try {
        const input = file.handle.createReadStream({ start: 0, end: st.size - 1, highWaterMark: 256 * 1024 })
        for await (const chunk of input) {
          if (!sink.write(chunk as Buffer)) await new Promise<void>((r) => sink.once('drain', () => r()))
        }
        sink.end(undefined)
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        sink.destroy(error)
        reject(error)
      }
    })()
  })
  await done
}

/** Match `upload` (one pattern per line, relative to `workspace`) and pack ONCE into a tar file in `tmpDir`. */
export async function packUploads(patterns: string, workspace: string, tmpDir: string): Promise<PackedUpload> {
  workspace = resolve(workspace)
  const lines = parseLines(patterns, workspace)
  if (!lines.some((l) => !l.negate)) throw new UploadInputError(patterns.trim(), 'upload holds no path to send, only ! lines or comments; add a path or glob')
  const entries = await collect(lines, workspace)
  if (!entries.some((e) => e.kind === 'file')) {
    const includes = lines.filter((l) => !l.negate).map((l) => l.text)
    throw new UploadInputError(
      includes.join('\n'),
      `upload ${includes.map((t) => `"${t}"`).join(', ')} sends no regular file, only directories or symbolic links (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}); add a file to send`,
    )
  }
  checkRealPaths(entries, workspace)

  for (const entry of entries) {
    if (entry.kind !== 'file') continue
    try {
      await access(entry.source, constants.R_OK)
    } catch (err) {
      throw new UploadInputError(
        entry.pattern,
        `upload pattern "${entry.pattern}" matches ${entry.source}, which cannot be read (${describeError(err)}); fix its permissions or exclude it (!path)`,
      )
    }
  }

  const dir = await mkdtemp(join(tmpDir, 'ssh-fanout-upload-'))
  const archivePath = join(dir, 'upload.tar')
  const dispose = (): void => {
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch {
      // best effort: a temp dir
    }
  }
  try {
    const tar = pack()
    const out = createWriteStream(archivePath)
    const written = once(out, 'close')
    const failed = new Promise<never>((_, reject) => {
      out.on('error', reject)
      tar.on('error', reject)
    })
    failed.catch(() => undefined)
    tar.pipe(out)
    for (const entry of entries) {
      try {
        await Promise.race([addEntry(tar, entry), failed])
      } catch (err) {
        const e = err as NodeJS.ErrnoException
        if (e.path === archivePath || e.syscall === 'write') throw err
        throw new UploadInputError(entry.pattern, `upload pattern "${entry.pattern}": cannot pack ${entry.source} (${describeError(err)})`)
      }
    }
    tar.finalize()
    await Promise.race([written, failed])
    const st = await lstat(archivePath)
    return {
      archivePath,
      bytes: st.size,
      files: entries.filter((e) => e.kind === 'file').length,
      entries: entries.length,
      dispose,
    }
  } catch (err) {
    dispose()
    throw err
  }
}
