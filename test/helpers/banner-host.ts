/**
 * A real sshd whose login shell prints (bash sourcing a ~/.bashrc banner, as Debian's bash does
 * for commands run by sshd) and whose sessions get their own TMPDIR, so that what a script-file
 * leaves there is seen by this test alone; and a TCP proxy that stalls or cuts the connection.
 */
import { chown, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { watch } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { ensureLoginUser, startSshd, type Sshd, type SshdOptions } from './sshd.js'

/** What the banner host's ~/.bashrc prints: on stdout without a final newline, and on stderr. */
export const BANNER_OUT = 'Welcome to the banner host (no newline)'
export const BANNER_ERR = 'banner host: notice on stderr'

export interface BannerHost {
  sshd: Sshd
  /** The sessions' TMPDIR, owned by the login user. */
  tmp: string
  /** Names of the ssh-fanout.* entries in `tmp` now. */
  staged(): Promise<string[]>
  /** Resolves once an ssh-fanout.* entry appears in `tmp` (at once if one is there); rejects after 60 s. */
  whenStaged(): Promise<void>
  /** Resolves true once `tmp` holds no ssh-fanout.* entry, false if one is still there after `timeoutMs`. */
  noneStaged(timeoutMs?: number): Promise<boolean>
  /** Resolves once `tmp` holds an entry `name` (e.g. one a script touched to say it started); rejects after 60 s. */
  whenFile(name: string): Promise<void>
  /** Empties `tmp`. */
  clear(): Promise<void>
  stop(): Promise<void>
}

const isStaged = (name: string) => name.startsWith('ssh-fanout.')

/**
 * Starts it: the login user is `ssh-fanout-bash` (shell /bin/bash) when running as root, else the
 * current user (whose shell must be bash). `banner: false`: the same host without the ~/.bashrc.
 */
export async function startBannerHost(opts: SshdOptions & { banner?: boolean } = {}): Promise<BannerHost> {
  const user = process.getuid?.() === 0 ? await ensureLoginUser('ssh-fanout-bash', '/bin/bash') : undefined
  const tmp = await mkdtemp(join(tmpdir(), 'ssh-fanout-host-tmp-'))
  if (user) await chown(tmp, Number(execFileSync('id', ['-u', user])), Number(execFileSync('id', ['-g', user])))
  const { banner: _banner, ...sshdOpts } = opts
  const sshd = await startSshd({ hostKeyTypes: ['ed25519'], ...sshdOpts, user, extraConfig: [`SetEnv TMPDIR=${tmp}`, ...(opts.extraConfig ?? [])] })
  // the fixture's HOME for sessions: bash sources its .bashrc before every command sshd runs
  if (opts.banner !== false) await writeFile(join(sshd.dir, 'home', '.bashrc'), `printf '%s' '${BANNER_OUT}'\nprintf '%s\\n' '${BANNER_ERR}' >&2\n`)
  const staged = async () => (await readdir(tmp)).filter(isStaged)
  /** Resolves true once `done(list())` holds (checked at once and on every change in `tmp`), false after `timeoutMs`. */
  const until = (done: (names: string[]) => boolean, timeoutMs: number, list = staged): Promise<boolean> =>
    new Promise((resolve) => {
      let finished = false
      const finish = (value: boolean) => {
        if (finished) return
        finished = true
        watcher.close()
        clearTimeout(timer)
        resolve(value)
      }
      const check = () =>
        void list().then(
          (names) => done(names) && finish(true),
          () => undefined,
        )
      const watcher = watch(tmp, check)
      const timer = setTimeout(() => finish(false), timeoutMs)
      check()
    })
  const all = () => readdir(tmp)
  return {
    sshd,
    tmp,
    staged,
    whenStaged: async () => {
      if (!(await until((names) => names.length > 0, 60_000))) throw new Error(`no ssh-fanout.* entry appeared in ${tmp} within 60 s`)
    },
    noneStaged: (timeoutMs = 10_000) => until((names) => names.length === 0, timeoutMs),
    whenFile: async (name) => {
      if (!(await until((names) => names.includes(name), 60_000, all))) throw new Error(`${name} did not appear in ${tmp} within 60 s`)
    },
    clear: async () => {
      for (const name of await readdir(tmp)) await rm(join(tmp, name), { recursive: true, force: true })
    },
    stop: async () => {
      await sshd.stop()
      await rm(tmp, { recursive: true, force: true })
    },
  }
}

export interface ControlledProxy {
  host: string
  port: number
  /** Resolves once `stallAfter` bytes went from client to server and the proxy stopped passing them on. */
  stalled: Promise<void>
  /** Destroys every open connection, both sides (a network cut). */
  cut(): void
  close(): Promise<void>
}

/**
 * A TCP proxy to `to`. With `stallAfter`, it stops passing the client's bytes on once that many
 * went through (the server hears nothing more; the server's bytes still reach the client); a
 * side that closes closes the other.
 */
export async function controlledProxy(to: { host: string; port: number }, stallAfter = Infinity): Promise<ControlledProxy> {
  const open = new Set<Socket>()
  let onStalled: () => void = () => undefined
  const stalled = new Promise<void>((resolve) => (onStalled = resolve))
  const server = createServer((client) => {
    const upstream = connect({ host: to.host, port: to.port, noDelay: true })
    client.setNoDelay(true)
    let passed = 0
    for (const s of [client, upstream]) {
      open.add(s)
      s.on('error', () => undefined).on('close', () => {
        open.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk: Buffer) => {
      if (passed >= stallAfter) return
      const room = stallAfter - passed
      passed += chunk.length
      upstream.write(room < chunk.length ? chunk.subarray(0, room) : chunk)
      if (passed >= stallAfter) onStalled()
    })
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    stalled,
    cut: () => {
      for (const s of open) s.destroy()
    },
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
