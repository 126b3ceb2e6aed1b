/**
 * `npm run demo`: starts a local fleet on loopback and runs the built action (dist/index.js)
 * against it exactly as the GitHub runner would, printing the grouped log and the job summary.
 *
 * Real OpenSSH sshd servers when sshd can be started (installed with apt-get when missing and
 * running as root); in-process ssh2 servers that run the command with the local shell otherwise.
 */
import { execFileSync, spawn } from 'node:child_process'
import { runAction } from '../test/helpers/action.js'
import { startFakeServer, type FakeServer } from '../test/helpers/ssh2-server.js'
import { startFleet } from '../test/helpers/fleet.js'
import { closedPort } from '../test/helpers/net.js'
import { sshdPath } from '../test/helpers/sshd.js'

interface Fleet {
  kind: string
  hosts: string[]
  knownHosts: string
  username: string
  privateKey: string
  password?: string
  stop(): Promise<void>
}

const COMMAND = `set -e
echo "deploying release 42 on $(hostname) as $(id -un)"
sleep 1
case "$SSH_CONNECTION" in
  *"127.0.0.3 "*) echo "health check failed: HTTP 503" >&2; exit 3 ;;
esac
echo "::error::a host printing a workflow command is just text"
echo "health check ok"`

function ensureSshd(): boolean {
  if (sshdPath()) return true
  if (process.getuid?.() !== 0) return false
  console.log('demo: installing openssh-server with apt-get (one time)…')
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
    execFileSync('apt-get', ['install', '-y', '-qq', 'openssh-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  } catch {
    return false
  }
  return sshdPath() !== null
}

async function sshdFleet(): Promise<Fleet> {
  const fleet = await startFleet(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'])
  return {
    kind: 'real OpenSSH sshd servers',
    hosts: fleet.hosts,
    knownHosts: fleet.knownHosts,
    username: fleet.username,
    privateKey: fleet.clientKey,
    stop: fleet.stop,
  }
}

/** In-process ssh2 servers that run the command with the local /bin/sh, as sshd would. */
async function fakeFleet(): Promise<Fleet> {
  const password = 'demo-password'
  const servers: FakeServer[] = []
  for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']) {
    const port = () => servers.length
    servers.push(
      await startFakeServer({
        host,
        auth: { password },
        onExec: (command, stream) => {
          const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, SSH_CONNECTION: `127.0.0.1 0 ${host} ${port()}` }, stdio: ['ignore', 'pipe', 'pipe'] })
          child.stdout.pipe(stream, { end: false })
          child.stderr.pipe(stream.stderr, { end: false })
          child.on('close', (code) => {
            stream.exit(code ?? 1)
            stream.end()
          })
        },
      }),
    )
  }
  return {
    kind: 'in-process ssh2 servers (no sshd was started) that run the command with the local shell',
    hosts: servers.map((s) => `${s.host}:${s.port}`),
    knownHosts: servers.map((s) => s.hostKeyPublic.knownHostsLine).join('\n'),
    username: 'demo',
    privateKey: '',
    password,
    stop: async () => void (await Promise.all(servers.map((s) => s.close()))),
  }
}

/** Shows the log as the Actions UI would: groups folded into headings, workflow commands as labels. */
function render(line: string, state: { stop: string | null }): string | null {
  const m = /^::([^\s:]+)(?: [^:]*)?::(.*)$/.exec(line)
  if (state.stop !== null) {
    if (m?.[1] === state.stop) state.stop = null
    return m?.[1] === state.stop || state.stop === null ? null : `  │ ${line}`
  }
  if (!m) return line === '' ? null : line
  const [, cmd, msg] = m
  const text = msg.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%')
  switch (cmd) {
    case 'group':
      return `\n▼ ${text}`
    case 'endgroup':
      return null
    case 'stop-commands':
      state.stop = msg
      return null
    case 'add-mask':
      return null
    case 'error':
      return `\x1b[31mError:\x1b[0m ${text}`
    case 'warning':
      return `\x1b[33mWarning:\x1b[0m ${text}`
    default:
      return `[${cmd}] ${text}`
  }
}

function summaryAsText(html: string): string {
  return html
    .replace(/<\/(h2|p|tr)>/g, '\n')
    .replace(/<\/t[dh]>/g, ' | ')
    .replace(/<tr>/g, '| ')
    .replace(/<br>/g, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{2,}/g, '\n')
}

async function main(): Promise<void> {
  let fleet: Fleet
  if (process.env.DEMO_SERVERS !== 'ssh2' && ensureSshd()) {
    try {
      fleet = await sshdFleet()
    } catch (err) {
      console.log(`demo: sshd could not be started (${(err as Error).message.split('\n')[0]}); using in-process servers`)
      fleet = await fakeFleet()
    }
  } else {
    fleet = await fakeFleet()
  }
  const dead = `127.0.0.5:${await closedPort('127.0.0.5')}`
  console.log(`demo: a fleet of ${fleet.hosts.length} hosts on loopback: ${fleet.kind}, plus ${dead} where nothing listens.`)
  console.log('demo: running dist/index.js as the runner would, with concurrency 2, max-failures 2, retries 1:\n')
  console.log(`  command: |\n${COMMAND.replace(/^/gm, '    ')}\n`)

  const state = { stop: null as string | null }
  let pending = ''
  const run = await runAction(
    {
      hosts: [...fleet.hosts, dead].join('\n'),
      username: fleet.username,
      command: COMMAND,
      'private-key': fleet.privateKey,
      password: fleet.password ?? '',
      'known-hosts': fleet.knownHosts,
      concurrency: '2',
      'max-failures': '2',
      retries: '1',
    },
    {
      onStdout: (text) => {
        const lines = (pending + text).split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          const shown = render(line, state)
          if (shown !== null) console.log(shown)
        }
      },
    },
  )
  await fleet.stop()
  console.log(`\n─── job summary (GITHUB_STEP_SUMMARY, as text) ───\n${summaryAsText(run.summary)}`)
  console.log(`─── outputs ───\nsucceeded-count=${run.outputs['succeeded-count']} failed-count=${run.outputs['failed-count']}\nfailed:\n${run.outputs['failed']}`)
  console.log(`\nThe step ${run.code === 0 ? 'passed (failures within max-failures: 2)' : `failed (exit ${run.code})`}.`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
