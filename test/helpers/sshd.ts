/**
 * Test fixture: a real OpenSSH `sshd` listening on a loopback address.
 *
 * Every fixture gets its own temp dir with freshly generated host keys, an
 * ed25519 (or rsa/ecdsa) client key authorized for the current user, an
 * sshd_config and sshd's log. Several fixtures can run at once (each on its
 * own port).
 *
 * Requirements:
 *  - OpenSSH server at /usr/sbin/sshd (Debian: `apt-get install openssh-server`)
 *    and `ssh-keygen` on PATH.
 *  - Root (as in CI) or any other user: tests always log in as the user that
 *    runs them. As root, sshd insists on the privilege-separation directory
 *    /run/sshd (created here if missing) and the `sshd` system user (created by
 *    the Debian package). As non-root neither is needed, but only the current
 *    user can log in and their login shell must be a real shell.
 *  - `UsePAM no` means sshd itself checks the account: a locked password
 *    (`!` in /etc/shadow) makes every login fail with "account is locked" in
 *    the sshd log, even for public keys.
 *
 * sshd reads the FIRST value it sees for each keyword, so `extraConfig` lines
 * are written before the defaults and override them; `Match` blocks in
 * extraConfig are moved to the end of the file, where they must be.
 * Do not set `LogLevel` below INFO: readiness is detected from sshd's
 * "Server listening on" log line.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { accessSync, constants as fsConstants, mkdirSync, readdirSync, readFileSync, rmSync, statSync, createWriteStream } from 'node:fs'
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'

const execFileP = promisify(execFile)

export interface SshdHostKey {
  /** key algorithm as it appears in the public key line, e.g. 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa' */
  type: string
  /** `type base64` (no comment) */
  publicLine: string
  /** exactly as `ssh-keygen -l` prints it: 'SHA256:...' */
  fingerprint: string
}

export interface Sshd {
  host: string
  port: number
  /** the user the tests log in as: the current user (root in CI) */
  username: string
  /** OpenSSH private key text authorized on this server */
  clientKey: string
  clientKeyPath: string
  hostKeys: SshdHostKey[]
  /** known_hosts lines for `[host]:port`, one per host key, newline-terminated */
  knownHosts: string
  /** temp dir with config, keys and logs (removed by stop()) */
  dir: string
  /** sshd's log so far (also written to `${dir}/sshd.log` while running) */
  log(): string
  /** kills sshd and everything it started, removes the temp dir; idempotent */
  stop(): Promise<void>
}

export type SshKeyType = 'ed25519' | 'ecdsa' | 'rsa'

export interface SshdOptions {
  /** loopback address to listen on; default '127.0.0.1' (any 127.x.y.z or '::1') */
  host?: string
  /** extra sshd_config lines; they take precedence over the defaults */
  extraConfig?: string[]
  /** default: all three */
  hostKeyTypes?: SshKeyType[]
  /** default 'ed25519' */
  clientKeyType?: SshKeyType
  /** encrypt the client key with this passphrase */
  clientKeyPassphrase?: string
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

/** Absolute path of sshd (sshd refuses to re-exec from a relative path), or null. */
export function sshdPath(): string | null {
  return SSHD_CANDIDATES.find(isExecutable) ?? null
}

function sshKeygenPath(): string | null {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])
  for (const d of dirs) {
    if (d && isExecutable(join(d, 'ssh-keygen'))) return join(d, 'ssh-keygen')
  }
  return null
}

let warned = false

/**
 * True when a real sshd can be started. When it can't: under CI (process.env.CI
 * set) this throws, so CI never silently skips; elsewhere it warns loudly on
 * stderr (once), calls `t.skip(...)` if `t` has a skip method, and returns false.
 */
export function requireSshd(t?: unknown): boolean {
  const missing: string[] = []
  if (!sshdPath()) missing.push(`sshd (looked at ${SSHD_CANDIDATES.join(', ')})`)
  if (!sshKeygenPath()) missing.push('ssh-keygen (not on PATH)')
  if (missing.length === 0) return true

  const msg = `OpenSSH server not usable: missing ${missing.join(' and ')}. Install it with \`apt-get install openssh-server\`.`
  if (process.env.CI) throw new Error(`${msg} Refusing to skip sshd tests in CI.`)
  if (!warned) {
    warned = true
    process.stderr.write(`\n${'!'.repeat(78)}\n!!! ${msg}\n!!! Tests that need a real sshd are SKIPPED.\n${'!'.repeat(78)}\n\n`)
  }
  const skip = (t as { skip?: unknown } | undefined)?.skip
  if (typeof skip === 'function') skip.call(t, 'sshd not installed')
  return false
}

// ---------------------------------------------------------------------------
// Process bookkeeping: kill every live fixture's process tree if the test
// process exits without calling stop(). (A SIGKILLed test process can't run
// this; for that case sshd is started under `setpriv --pdeathsig`.)

const live = new Set<SshdProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const p of live) p.killNow()
  })
}

/** Every descendant of `root` (Linux /proc), deepest last. Empty where /proc is missing. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>()
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    // "pid (comm) state ppid ..." — comm may contain spaces and parens
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    const list = children.get(ppid) ?? []
    list.push(Number(name))
    children.set(ppid, list)
  }
  const out: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c)
      queue.push(c)
    }
  }
  return out
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

class SshdProcess {
  private terminating: Promise<void> | null = null

  constructor(
    readonly child: ChildProcess,
    readonly dir: string,
  ) {}

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null
  }

  private waitExit(ms: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.child.off('exit', onExit)
        resolve(false)
      }, ms)
      const onExit = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      this.child.once('exit', onExit)
    })
  }

  /** Synchronous last resort (process 'exit' hook): SIGKILL the tree, remove the dir. */
  killNow(): void {
    const pid = this.child.pid
    if (pid !== undefined) signalAll([pid, ...descendants(pid)], 'SIGKILL')
    live.delete(this)
    try {
      rmSync(this.dir, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }

  /** SIGTERM sshd and all its descendants, SIGKILL after the grace period. Keeps the dir. */
  terminate(): Promise<void> {
    this.terminating ??= (async () => {
      const pid = this.child.pid
      // per-connection sshd processes call setsid(), so a process-group kill
      // would miss them: walk the tree instead (snapshot before the listener
      // dies and its children are re-parented)
      const tree = pid !== undefined ? descendants(pid) : []
      if (pid !== undefined && !this.exited) {
        signalAll([pid, ...tree], 'SIGTERM')
        if (!(await this.waitExit(STOP_GRACE_MS))) {
          signalAll([pid], 'SIGKILL')
          await this.waitExit(STOP_GRACE_MS)
        }
      }
      signalAll(tree, 'SIGKILL')
      live.delete(this)
    })()
    return this.terminating
  }

  async stop(): Promise<void> {
    await this.terminate()
    await rm(this.dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------

async function keygen(bin: string, type: SshKeyType, path: string, passphrase = '', comment = 'ssh-fanout-test'): Promise<void> {
  const args = ['-q', '-t', type, '-N', passphrase, '-C', comment, '-f', path]
  if (type === 'rsa') args.push('-b', '2048') // 3072 (default) is 4x slower and buys tests nothing
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

/** Connects once and resolves when the server's identification line starts with SSH-2.0-. */
function readBanner(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port })
    let buf = ''
    const done = (err: Error | null, banner?: string): void => {
      sock.destroy()
      if (err) reject(err)
      else resolve(banner!)
    }
    sock.setTimeout(timeoutMs, () => done(new Error(`no SSH banner from ${host}:${port} within ${timeoutMs} ms`)))
    sock.on('error', (err) => done(err))
    sock.on('data', (d) => {
      buf += d.toString('latin1')
      const nl = buf.indexOf('\n')
      if (nl === -1) return
      const line = buf.slice(0, nl).trim()
      if (line.startsWith('SSH-2.0-')) done(null, line)
      else if (line.startsWith('SSH-')) done(new Error(`unexpected SSH identification: ${line}`))
      // other lines before the identification are allowed by RFC 4253; keep reading
      else buf = buf.slice(nl + 1)
    })
    sock.on('end', () => done(new Error(`connection closed before SSH banner; got ${JSON.stringify(buf)}`)))
  })
}

let sshdVersionCache: [number, number] | null | undefined

/** [major, minor] of the OpenSSH server, e.g. [9, 2]. */
async function sshdVersion(bin: string): Promise<[number, number] | null> {
  if (sshdVersionCache !== undefined) return sshdVersionCache
  // `sshd -V` prints "OpenSSH_9.2p1 ..." on stderr and exits 1 on older versions
  const out = await execFileP(bin, ['-V']).then(
    (r) => r.stdout + r.stderr,
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
  )
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(out)
  sshdVersionCache = m ? [Number(m[1]), Number(m[2])] : null
  return sshdVersionCache
}

function listenAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

function ensurePrivsepDir(): void {
  // sshd running as root chroots its pre-auth child into /run/sshd and exits
  // with "Missing privilege separation directory" without it
  if (process.getuid?.() !== 0) return
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  } catch (err) {
    throw new Error(`cannot create /run/sshd (sshd's privilege separation dir): ${(err as Error).message}`)
  }
}

function hasSetprivPdeathsig(): boolean {
  return process.platform === 'linux' && isExecutable('/usr/bin/setpriv')
}

interface Launch {
  proc: SshdProcess
  logText: () => string
}

/**
 * Starts sshd and resolves once it has logged "Server listening" and sent an
 * SSH-2.0- banner on a fresh TCP connection. Rejects (after killing sshd) on
 * early exit or timeout; `addrInUse` tells the caller to retry another port.
 */
function launch(bin: string, dir: string, configPath: string, host: string, port: number): Promise<Launch> {
  const logPath = join(dir, 'sshd.log') // a copy for post-mortems while the dir exists
  const logFile = createWriteStream(logPath, { flags: 'a' })
  logFile.on('error', () => {}) // the in-memory copy is what log() returns
  let logText = ''

  // -D: don't daemonize; -e: log to stderr (piped here so readiness is an event).
  // setpriv --pdeathsig: the kernel SIGTERMs sshd if this process dies without cleanup.
  const sshdArgs = ['-D', '-e', '-f', configPath]
  const [cmd, args] = hasSetprivPdeathsig()
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGTERM', '--', bin, ...sshdArgs]]
    : [bin, sshdArgs]
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const proc = new SshdProcess(child, dir)
  live.add(proc)
  installExitHook()

  return new Promise((resolve, reject) => {
    let settled = false
    let bannerCheckStarted = false
    const fail = (message: string, extra: Record<string, unknown> = {}): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void proc.terminate().finally(() => {
        reject(Object.assign(new Error(`${message}\n--- sshd log ---\n${logText || '(empty)'}`), extra))
      })
    }
    const timer = setTimeout(
      () => fail(`sshd did not become ready on ${listenAddress(host, port)} within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    )

    child.on('error', (err) => fail(`cannot run ${cmd}: ${err.message}`))
    // 'close' (not 'exit'): all of stderr has been read by then
    child.on('close', (code, signal) => {
      logFile.end()
      fail(`sshd exited before it was ready (code ${code}, signal ${signal})`, {
        addrInUse: /Address already in use|Cannot bind any address/.test(logText),
      })
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      logText += chunk
      logFile.write(chunk)
      if (!settled && !bannerCheckStarted && /Server listening on /.test(logText)) {
        bannerCheckStarted = true
        readBanner(host, port, START_TIMEOUT_MS).then(
          () => {
            if (settled) return
            settled = true
            clearTimeout(timer)
            resolve({ proc, logText: () => logText })
          },
          (err: Error) => fail(`sshd logged "Server listening" but the banner check failed: ${err.message}`),
        )
      }
    })
  })
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
  const username = userInfo().username

  ensurePrivsepDir()
  const dir = await mkdtemp(join(tmpdir(), 'ssh-fanout-sshd-'))
  try {
    const clientKeyPath = join(dir, `client_${clientKeyType}`)
    await Promise.all([
      ...hostKeyTypes.map((t) => keygen(keygenBin, t, join(dir, `ssh_host_${t}_key`), '', 'ssh-fanout-test-host')),
      keygen(keygenBin, clientKeyType, clientKeyPath, opts.clientKeyPassphrase ?? ''),
    ])
    const hostKeys: SshdHostKey[] = await Promise.all(
      hostKeyTypes.map(async (t) => {
        const pubPath = join(dir, `ssh_host_${t}_key.pub`)
        const [type, b64] = (await readFile(pubPath, 'utf8')).trim().split(/\s+/)
        return { type: type!, publicLine: `${type} ${b64}`, fingerprint: await fingerprint(keygenBin, pubPath) }
      }),
    )
    const authorizedKeysPath = join(dir, 'authorized_keys')
    await writeFile(authorizedKeysPath, await readFile(`${clientKeyPath}.pub`, 'utf8'), { mode: 0o600 })
    const clientKey = await readFile(clientKeyPath, 'utf8')

    const version = await sshdVersion(bin)
    // OpenSSH >= 9.8 penalises sources that fail auth or time out; tests do both on purpose
    const penalties = version && (version[0] > 9 || (version[0] === 9 && version[1] >= 8)) ? ['PerSourcePenalties no'] : []
    const extra = opts.extraConfig ?? []
    const firstMatch = extra.findIndex((l) => /^\s*Match\s/i.test(l))
    const [extraPlain, extraMatch] = firstMatch === -1 ? [extra, []] : [extra.slice(0, firstMatch), extra.slice(firstMatch)]

    const configPath = join(dir, 'sshd_config')
    for (let attempt = 1; ; attempt++) {
      const port = await freePort(host)
      const config = [
        '# generated by test/helpers/sshd.ts; first value of each keyword wins',
        ...extraPlain,
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
      try {
        const { proc, logText } = await launch(bin, dir, configPath, host, port)
        return {
          host,
          port,
          username,
          clientKey,
          clientKeyPath,
          hostKeys,
          knownHosts: hostKeys.map((k) => `${knownHostsName(host, port)} ${k.publicLine}\n`).join(''),
          dir,
          log: logText,
          stop: () => proc.stop(),
        }
      } catch (err) {
        if ((err as { addrInUse?: boolean }).addrInUse && attempt < MAX_PORT_ATTEMPTS) continue
        throw err
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}
