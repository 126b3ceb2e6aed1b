/**
 * The demo's local fleet, shared by `npm run demo` and `npm run local-action`: real OpenSSH sshd
 * servers on loopback when sshd can be started (installed with apt-get when missing and running
 * as root), in-process ssh2 servers that run the command with the local shell otherwise; plus one
 * address where nothing listens.
 */
import { execFileSync, spawn } from 'node:child_process'
import { startFakeServer, type FakeServer } from '../test/helpers/ssh2-server.js'
import { startFleet } from '../test/helpers/fleet.js'
import { closedPort } from '../test/helpers/net.js'
import { sshdPath } from '../test/helpers/sshd.js'

export interface Fleet {
  kind: string
  hosts: string[]
  knownHosts: string
  username: string
  privateKey: string
  password?: string
  stop(): Promise<void>
}

export const DEMO_COMMAND = `set -e
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
    stop: () => fleet.stop(),
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
          const child = spawn('/bin/sh', ['-c', command], {
            env: { ...process.env, SSH_CONNECTION: `127.0.0.1 0 ${host} ${port()}` },
            stdio: ['ignore', 'pipe', 'pipe'],
          })
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

/** The demo fleet, sshd when possible (DEMO_SERVERS=ssh2 forces in-process servers), and a port where nothing listens. */
export async function startDemoFleet(): Promise<Fleet & { dead: string }> {
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
  return { ...fleet, dead: `127.0.0.5:${await closedPort('127.0.0.5')}` }
}

/** The action's inputs for a run against the demo fleet: concurrency 2, max-failures 2, retries 1. */
export function demoInputs(fleet: Fleet & { dead: string }): Record<string, string> {
  return {
    hosts: [...fleet.hosts, fleet.dead].join('\n'),
    username: fleet.username,
    command: DEMO_COMMAND,
    'private-key': fleet.privateKey,
    password: fleet.password ?? '',
    'known-hosts': fleet.knownHosts,
    concurrency: '2',
    'max-failures': '2',
    retries: '1',
  }
}
