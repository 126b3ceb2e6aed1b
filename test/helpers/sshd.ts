/**
 * Test fixture: a real OpenSSH `sshd` listening on a loopback address.
 *
 * Every fixture gets its own temp dir with freshly generated host keys, a
 * client key authorized for the login user, an sshd_config and sshd's log.
 * Several fixtures can run at once (each on its own port).
 *
 * Requirements and behaviour worth knowing:
 *  - OpenSSH server at /usr/sbin/sshd (Debian: `apt-get install openssh-server`)
 *    and `ssh-keygen` on PATH.
 *  - Runs as root (CI) or as any other user. As root sshd needs the privilege
 *    separation dir /run/sshd (created here if missing) and the `sshd` system
 *    user (created by the Debian package). As non-root neither is needed, but
 *    only the current user can log in.
 *  - `UsePAM no`: sshd checks the account itself, so a locked password (`!`
 *    in /etc/shadow) fails every login ("account is locked" in the log).
 *  - OpenSSH refuses `signal` channel requests in sessions of root logins
 *    ("session signalling requires privilege separation": root sessions run in
 *    the monitor process). To test signals while running as root, log in as an
 *    unprivileged account: `startSshd({ user: await ensureLoginUser() })`.
 *    For other users sshd does killpg(): the whole process group of the command.
 *  - Remote commands get HOME=<dir>/home (empty) via `SetEnv`: Debian's bash
 *    sources ~/.bashrc for commands run by sshd, and a login user's dotfiles
 *    (pyenv init, ...) would otherwise run, slowly, before every test command.
 *    The working directory is still the account's home directory.
 *  - A command of a non-pty session keeps running after its channel or
 *    connection closes; stop() kills such orphans too (found by the
 *    SSH_CONNECTION variable sshd put in their environment).
 *
 * sshd uses the FIRST value it reads for each keyword, so `extraConfig` lines
 * are written before the defaults and override them; `Match` blocks in
 * extraConfig are moved to the end of the file, where they must be; a SetEnv
 * line in extraConfig gets our HOME= appended (sshd honours one SetEnv line).
 * Keep LogLevel at INFO or above: readiness is detected from sshd's
 * "Server listening on" log line.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { accessSync, constants as fsConstants, mkdirSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs'
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'

const execFileP = promisify(execFile)

export interface SshdHostKey {
  /** key algorithm as in the public key line: 'ssh-ed25519', 'ecdsa-sha2-nistp256' or 'ssh-rsa' */
  type: string
  /** `type base64` (no comment) */
  publicLine: string
  /** exactly as `ssh-keygen -l` prints it: 'SHA256:...' */
  fingerprint: string
}

export interface Sshd {
  host: string
  port: number
  /** the user the tests log in as: the current user (root in CI) unless opts.user */
  username: string
  /** OpenSSH private key text authorized on this server */
  clientKey: string
  clientKeyPath: string
  hostKeys: SshdHostKey[]
  /** known_hosts lines for `[host]:port`, one per host key, each ending in a newline */
  knownHosts: string
  /** temp dir with config, keys and logs (removed by stop()) */
  dir: string
  /** sshd's log so far (kept after stop()) */
  log(): string
  /** resolves with the log once it matches `pattern` (in the log from offset `from`, default 0); rejects after timeoutMs (default 5000) */
  waitForLog(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>
  /** kills sshd and everything it started, removes the temp dir; idempotent */
  stop(): Promise<void>
}

export type SshKeyType = 'ed25519' | 'ecdsa' | 'rsa'

export interface SshdOptions {
  /** loopback address to listen on; default '127.0.0.1' (any 127.x.y.z, or '::1') */
  host?: string
  /** extra sshd_config lines; they take precedence over the defaults */
  extraConfig?: string[]
  /** default: ['ed25519', 'ecdsa', 'rsa'] */
  hostKeyTypes?: SshKeyType[]
  /** default 'ed25519' */
  clientKeyType?: SshKeyType
  /** encrypt the client key with this passphrase */
  clientKeyPassphrase?: string
  /** more public key lines authorized for the login user (e.g. another fixture's client key, to share one key across a fleet) */
  authorizedKeys?: string[]
  /** log in as this existing account instead of the current user (root only); see ensureLoginUser() */
  user?: string
}

const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/local/sbin/sshd']
const START_TIMEOUT_MS = 10_000
const STOP_GRACE_MS = 2_000
const MAX_PORT_ATTEMPTS = 5

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Absolute path of sshd (it refuses to re-exec itself from a relative path), or null. */
export function sshdPath(): string | null {
  return SSHD_CANDIDATES.find(isExecutable) ?? null
}

function sshKeygenPath(): string | null {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])
  const dir = dirs.find((d) => d !== '' && isExecutable(join(d, 'ssh-keygen')))
  return dir === undefined ? null : join(dir, 'ssh-keygen')
}

let warned = false

/**
 * True when a real sshd can be started. When it can't: under CI (process.env.CI
 * set) this throws, so CI never silently skips; elsewhere it warns loudly on
 * stderr (once), calls `t.skip('sshd not installed')` if `t` has a skip
 * method, and returns false.
 */
export function requireSshd(t?: unknown): boolean {
  const missing: string[] = []
  if (!sshdPath()) missing.push(`sshd (looked at ${SSHD_CANDIDATES.join(', ')})`)
  if (!sshKeygenPath()) missing.push('ssh-keygen (not on PATH)')
  if (missing.length === 0) return true

  const msg = `OpenSSH server not usable: missing ${missing.join(' and ')}. Install it: apt-get install openssh-server`
  if (process.env.CI) throw new Error(`${msg}. Refusing to skip sshd tests in CI.`)
  if (!warned) {
    warned = true
    const bar = '!'.repeat(78)
    process.stderr.write(`\n${bar}\n!!! ${msg}\n!!! Tests that need a real sshd are SKIPPED.\n${bar}\n\n`)
  }
  const skip = (t as { skip?: unknown } | undefined)?.skip
  if (typeof skip === 'function') skip.call(t, 'sshd not installed')
  return false
}

interface Account {
  name: string
  uid: number
  gid: number
  shell: string
}

async function lookupAccount(name: string): Promise<Account | null> {
  try {
    const { stdout } = await execFileP('getent', ['passwd', name])
    const f = stdout.trim().split(':')
    return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), shell: f[6] ?? '' }
  } catch {
    return null
  }
}

/**
 * Makes sure an unprivileged account with a real shell exists (creating it
 * with useradd when missing; root only) and returns its name. Use it with
 * `startSshd({ user })` where a root login won't do, e.g. to test signals.
 * The account has no password ('*', not locked), home /var/lib/<name> and
 * `shell` as its login shell (an existing account must have that shell).
 */
export async function ensureLoginUser(name = 'ssh-fanout-test', shell = '/bin/sh'): Promise<string> {
  let account = await lookupAccount(name)
  if (!account) {
    if (process.getuid?.() !== 0) throw new Error(`ensureLoginUser: account ${name} is missing and only root can create it`)
    const args = ['--system', '--create-home', '--home-dir', `/var/lib/${name}`, '--shell', shell, '--password', '*', name]
    try {
      await execFileP('useradd', args)
    } catch (err) {
      account = await lookupAccount(name) // created meanwhile by a parallel test process?
      if (!account) throw new Error(`useradd ${args.join(' ')} failed: ${(err as Error).message}`, { cause: err })
    }
    account ??= await lookupAccount(name)
  }
  if (!account) throw new Error(`ensureLoginUser: ${name} still missing after useradd`)
  if (account.uid === 0) throw new Error(`ensureLoginUser: ${name} is uid 0`)
  if (/nologin|false$/.test(account.shell)) throw new Error(`ensureLoginUser: ${name} has no login shell (${account.shell})`)
  if (account.shell !== shell) throw new Error(`ensureLoginUser: ${name} has the login shell ${account.shell}, not ${shell}`)
  return name
}

// ---------------------------------------------------------------------------
// Processes. Per-connection sshd processes and the commands they run each call
// setsid(), so a process-group kill would miss them: walk /proc instead.

interface ProcInfo {
  pid: number
  ppid: number
  state: string
}

function listProcesses(): ProcInfo[] {
  let names: string[]
  try {
    names = readdirSync('/proc')
  } catch {
    return [] // no /proc: only sshd itself gets killed
  }
  const out: ProcInfo[] = []
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue
    try {
      // "pid (comm) state ppid ..." — comm may contain spaces and parens
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.push({ pid: Number(name), ppid: Number(ppid), state: state })
    } catch {
      // exited meanwhile
    }
  }
  return out
}

function descendants(root: number, procs: ProcInfo[]): number[] {
  const out: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    const parent = queue.shift()!
    for (const p of procs) {
      if (p.ppid === parent) {
        out.push(p.pid)
        queue.push(p.pid)
      }
    }
  }
  return out
}

/** Processes started by sessions of the sshd at host:port, even when re-parented. */
function sessionProcesses(host: string, port: number, procs: ProcInfo[]): number[] {
  const suffix = ` ${host} ${port}`
  return procs
    .filter((p) => {
      if (p.state === 'Z') return false
      try {
        const env = readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0')
        return env.some((v) => v.startsWith('SSH_CONNECTION=') && v.endsWith(suffix))
      } catch {
        return false // gone, or not ours to read
      }
    })
    .map((p) => p.pid)
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

const live = new Set<SshdProcess>()
let exitHookInstalled = false

/**
 * If the test process exits or is interrupted without stop(), kill what is
 * left and remove the temp dirs. On SIGINT/SIGTERM the signal is re-raised
 * after cleanup, so the process still dies of it unless someone else handles
 * it. (A SIGKILLed test process can't clean up; for that, sshd runs under
 * `setpriv --pdeathsig` and its temp dir stays behind.)
 */
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  const killAll = (): void => {
    for (const p of live) p.killNow()
  }
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, function onSignal() {
      killAll()
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
}

/** sshd's -E log file plus anything it wrote to stderr before opening it. */
class SshdLog {
  private fileText = ''
  private stderrText = ''
  private closed = false
  private readonly watcher: FSWatcher
  private readonly listeners = new Set<() => void>()

  constructor(readonly path: string) {
    writeFileSync(path, '')
    this.watcher = watch(path, () => this.changed())
    this.watcher.on('error', () => {}) // the dir goes away in stop()
    this.watcher.unref()
  }

  text(): string {
    if (!this.closed) {
      try {
        this.fileText = readFileSync(this.path, 'utf8')
      } catch {
        // keep the last copy
      }
    }
    return this.stderrText ? `${this.fileText}[sshd stderr]\n${this.stderrText}` : this.fileText
  }

  appendStderr(chunk: string): void {
    this.stderrText += chunk
    this.changed()
  }

  changed(): void {
    for (const l of this.listeners) l()
  }

  /** Calls `listener` on every change until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.text()
    this.closed = true
    this.watcher.close()
    this.listeners.clear()
  }
}

class SshdProcess {
  private terminating: Promise<void> | null = null
  /** set once sshd listens: only then are processes with SSH_CONNECTION to host:port ours */
  ready = false

  constructor(
    readonly child: ChildProcess,
    readonly dir: string,
    readonly host: string,
    readonly port: number,
    readonly log: SshdLog,
  ) {}

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null
  }

  private waitExit(ms: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true)
    return new Promise((resolve) => {
      const onExit = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.child.off('exit', onExit)
        resolve(false)
      }, ms)
      this.child.once('exit', onExit)
    })
  }

  /** Everything to kill: sshd's descendants and orphaned session processes. */
  private victims(): number[] {
    const procs = listProcesses()
    const pid = this.child.pid
    const tree = pid === undefined ? [] : descendants(pid, procs)
    const sessions = this.ready ? sessionProcesses(this.host, this.port, procs) : []
    return [...new Set([...tree, ...sessions])]
  }

  /** Synchronous last resort (process 'exit' hook): SIGKILL everything, remove the dir. */
  killNow(): void {
    live.delete(this)
    signalAll([...(this.child.pid === undefined ? [] : [this.child.pid]), ...this.victims()], 'SIGKILL')
    this.log.close()
    try {
      rmSync(this.dir, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }

  /** SIGTERM sshd and everything it started, SIGKILL after the grace period. Keeps the dir. */
  terminate(): Promise<void> {
    this.terminating ??= (async () => {
      const pid = this.child.pid
      const victims = this.victims() // before the listener dies and its children are re-parented
      signalAll(victims, 'SIGTERM')
      if (pid !== undefined && !this.exited) {
        signalAll([pid], 'SIGTERM')
        if (!(await this.waitExit(STOP_GRACE_MS))) {
          signalAll([pid], 'SIGKILL')
          await this.waitExit(STOP_GRACE_MS)
        }
      }
      signalAll([...victims, ...this.victims()], 'SIGKILL')
      live.delete(this)
      this.log.close()
    })()
    return this.terminating
  }

  async stop(): Promise<void> {
    await this.terminate()
    await rm(this.dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------

async function keygen(bin: string, type: SshKeyType, path: string, passphrase: string, comment: string): Promise<void> {
  const args = ['-q', '-t', type, '-N', passphrase, '-C', comment, '-f', path]
  if (type === 'rsa') args.push('-b', '2048') // the 3072-bit default is 4x slower and buys tests nothing
  if (type === 'ecdsa') args.push('-b', '256')
  await execFileP(bin, args)
}

async function fingerprint(bin: string, pubPath: string): Promise<string> {
  // "256 SHA256:abc... comment (ED25519)"
  const { stdout } = await execFileP(bin, ['-l', '-E', 'sha256', '-f', pubPath])
  const fp = stdout.trim().split(/\s+/)[1]
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${stdout}`)
  return fp
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

/** Connects once; resolves when the server's identification line starts with SSH-2.0-. */
function readBanner(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port })
    let buf = ''
    const done = (err: Error | null, banner = ''): void => {
      sock.destroy()
      if (err) reject(err)
      else resolve(banner)
    }
    sock.setTimeout(timeoutMs, () => done(new Error(`no SSH banner from ${host}:${port} within ${timeoutMs} ms`)))
    sock.on('error', (err) => done(err))
    sock.on('data', (d) => {
      buf += d.toString('latin1')
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim()
        if (line.startsWith('SSH-2.0-')) return done(null, line)
        if (line.startsWith('SSH-')) return done(new Error(`unexpected SSH identification: ${line}`))
        buf = buf.slice(nl + 1) // RFC 4253 allows other lines before the identification
      }
    })
    sock.on('end', () => done(new Error(`connection closed before the SSH banner; got ${JSON.stringify(buf)}`)))
  })
}

let sshdVersionCache: Promise<[number, number] | null> | undefined

/** [major, minor] of the OpenSSH server, e.g. [9, 2]; `sshd -V` exits non-zero on older versions. */
function sshdVersion(bin: string): Promise<[number, number] | null> {
  sshdVersionCache ??= execFileP(bin, ['-V'])
    .then(
      (r) => r.stdout + r.stderr,
      (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
    )
    .then((out) => {
      const m = /OpenSSH_(\d+)\.(\d+)/.exec(out)
      return m ? [Number(m[1]), Number(m[2])] : null
    })
  return sshdVersionCache
}

function listenAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/** sshd as root chroots its pre-auth child into /run/sshd and exits without it. */
function ensurePrivsepDir(): void {
  if (process.getuid?.() !== 0) return
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  } catch (err) {
    throw new Error(`cannot create /run/sshd (sshd's privilege separation dir): ${(err as Error).message}`, { cause: err })
  }
}

function waitForLogText(log: SshdLog, pattern: RegExp, timeoutMs: number, what: string, from = 0): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const text = log.text()
      if (!pattern.test(text.slice(from))) return
      done()
      resolve(text)
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`${what}: no log line matching ${pattern} within ${timeoutMs} ms\n--- sshd log ---\n${log.text()}`))
    }, timeoutMs)
    const unsubscribe = log.subscribe(check)
    const done = (): void => {
      clearTimeout(timer)
      unsubscribe()
    }
    check()
  })
}

class AddrInUse extends Error {}

/** Starts sshd; resolves once it logged "Server listening" and sent a banner on a fresh connection. */
async function launch(bin: string, dir: string, configPath: string, host: string, port: number): Promise<SshdProcess> {
  const log = new SshdLog(join(dir, 'sshd.log'))
  // -D: stay in the foreground; -E: log to a file (with -e the log would go to
  // stderr, which session commands inherit: debug lines leak into their output).
  // setpriv --pdeathsig: the kernel SIGTERMs sshd if this process dies without cleanup.
  const sshdArgs = ['-D', '-E', log.path, '-f', configPath]
  const usePdeathsig = process.platform === 'linux' && isExecutable('/usr/bin/setpriv')
  const [cmd, args] = usePdeathsig ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGTERM', '--', bin, ...sshdArgs]] : [bin, sshdArgs]
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const proc = new SshdProcess(child, dir, host, port, log)
  live.add(proc)
  installExitHook()
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => log.appendStderr(chunk))

  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)))
    // 'close' rather than 'exit': stderr has been read completely by then
    child.once('close', (code, signal) => {
      const text = log.text()
      const Err = /Address already in use|Cannot bind any address/.test(text) ? AddrInUse : Error
      reject(new Err(`sshd exited before it was ready (code ${code}, signal ${signal})\n--- sshd log ---\n${text}`))
    })
  })
  exited.catch(() => {}) // only awaited while starting
  try {
    await Promise.race([waitForLogText(log, /Server listening on /, START_TIMEOUT_MS, `sshd on ${listenAddress(host, port)}`), exited])
    await Promise.race([readBanner(host, port, START_TIMEOUT_MS), exited])
    proc.ready = true
    return proc
  } catch (err) {
    await proc.terminate()
    throw err
  }
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const bin = sshdPath()
  const keygenBin = sshKeygenPath()
  if (!bin || !keygenBin) {
    requireSshd() // throws in CI, warns otherwise
    throw new Error('sshd / ssh-keygen not installed')
  }
  const host = opts.host ?? '127.0.0.1'
  if (net.isIP(host) === 0) throw new Error(`startSshd: host must be an IP address, got ${host}`)
  const hostKeyTypes = opts.hostKeyTypes ?? ['ed25519', 'ecdsa', 'rsa']
  const clientKeyType = opts.clientKeyType ?? 'ed25519'
  let account: Account | null = null
  if (opts.user !== undefined && opts.user !== userInfo().username) {
    if (process.getuid?.() !== 0) throw new Error('startSshd: only root can log in as another user')
    account = await lookupAccount(opts.user)
    if (!account) throw new Error(`startSshd: no account ${opts.user} (see ensureLoginUser())`)
  }
  const username = account?.name ?? userInfo().username

  ensurePrivsepDir()
  const dir = await mkdtemp(join(tmpdir(), 'ssh-fanout-sshd-'))
  try {
    const clientKeyPath = join(dir, `client_${clientKeyType}`)
    await Promise.all([
      ...hostKeyTypes.map((t) => keygen(keygenBin, t, join(dir, `ssh_host_${t}_key`), '', 'ssh-fanout-test-host')),
      keygen(keygenBin, clientKeyType, clientKeyPath, opts.clientKeyPassphrase ?? '', 'ssh-fanout-test-client'),
    ])
    const hostKeys: SshdHostKey[] = await Promise.all(
      hostKeyTypes.map(async (t) => {
        const pubPath = join(dir, `ssh_host_${t}_key.pub`)
        const [type, b64] = (await readFile(pubPath, 'utf8')).trim().split(/\s+/)
        return { type: type, publicLine: `${type} ${b64}`, fingerprint: await fingerprint(keygenBin, pubPath) }
      }),
    )
    const clientKey = await readFile(clientKeyPath, 'utf8')
    const authorizedKeysPath = join(dir, 'authorized_keys')
    const extraKeys = (opts.authorizedKeys ?? []).map((k) => `${k.trim()}\n`).join('')
    await writeFile(authorizedKeysPath, (await readFile(`${clientKeyPath}.pub`, 'utf8')) + extraKeys)
    const home = join(dir, 'home')
    await mkdir(home)
    if (account) {
      // sshd reads authorized_keys as the login user
      await chmod(dir, 0o711)
      await chmod(authorizedKeysPath, 0o644)
      await chown(home, account.uid, account.gid)
    }

    const version = await sshdVersion(bin)
    // OpenSSH >= 9.8 penalises sources that fail auth or time out; tests do both on purpose
    const penalties = version && (version[0] > 9 || (version[0] === 9 && version[1] >= 8)) ? ['PerSourcePenalties no'] : []
    const extra = opts.extraConfig ?? []
    const firstMatch = extra.findIndex((l) => /^\s*Match\s/i.test(l))
    const extraPlain = firstMatch === -1 ? extra : extra.slice(0, firstMatch)
    const extraMatch = firstMatch === -1 ? [] : extra.slice(firstMatch)
    const setEnvAt = extraPlain.findIndex((l) => /^\s*SetEnv\s/i.test(l))
    const setHome = `HOME=${home}`
    const extraLines = setEnvAt === -1 || /\sHOME=/.test(extraPlain[setEnvAt]) ? extraPlain : extraPlain.map((l, i) => (i === setEnvAt ? `${l} ${setHome}` : l))

    const configPath = join(dir, 'sshd_config')
    for (let attempt = 1; ; attempt++) {
      const port = await freePort(host)
      const config = [
        '# generated by test/helpers/sshd.ts; sshd uses the first value of each keyword',
        ...extraLines,
        `ListenAddress ${listenAddress(host, port)}`,
        `Port ${port}`,
        ...hostKeyTypes.map((t) => `HostKey ${join(dir, `ssh_host_${t}_key`)}`),
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeysPath}`,
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'UseDNS no',
        'PrintMotd no',
        'PrintLastLog no',
        `SetEnv ${setHome}`,
        'MaxStartups 100:30:200',
        'MaxSessions 100',
        'MaxAuthTries 20',
        'LoginGraceTime 30',
        'LogLevel VERBOSE',
        ...penalties,
        ...extraMatch,
        '',
      ].join('\n')
      await writeFile(configPath, config)
      let proc: SshdProcess
      try {
        proc = await launch(bin, dir, configPath, host, port)
      } catch (err) {
        if (err instanceof AddrInUse && attempt < MAX_PORT_ATTEMPTS) continue // another process took the port
        throw err
      }
      const log = proc.log
      return {
        host,
        port,
        username,
        clientKey,
        clientKeyPath,
        hostKeys,
        knownHosts: hostKeys.map((k) => `${knownHostsName(host, port)} ${k.publicLine}\n`).join(''),
        dir,
        log: () => log.text(),
        waitForLog: (pattern, timeoutMs = 5_000, from = 0) => waitForLogText(log, pattern, timeoutMs, 'waitForLog', from),
        stop: () => proc.stop(),
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}
