/**
 * Stops that come while the command is starting, after a preparation: what the message says
 * (did the command start? what was the preparation?), that a channel opening after the session
 * ended never runs the command, and that what the preparation staged is removed at the same time
 * as the stop, not after it. In-process ssh2 servers that hold the command's channel or its exec
 * request, and a preparation of the test's own (its cleanup is a command on the host).
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, it } from 'node:test'
import ssh2 from 'ssh2'
import type { Client, ServerChannel } from 'ssh2'
import { OutputSpool, SpoolDir } from '../../src/engine/output/spool.js'
import type { Prepare, PreparePhase } from '../../src/engine/prepare/prepare.js'
import { runSession, type SessionOptions, type SessionOutcome } from '../../src/engine/host/session.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { target } from '../helpers/engine.js'
import { startFakeServer, withoutRunToken, generateKeyPair } from '../helpers/ssh2-server.js'

const unchecked = hostKeyPolicy({ strict: false, knownHosts: null, fingerprints: [] })

async function run(port: number, opts: Partial<SessionOptions>): Promise<SessionOutcome> {
  const dir = new SpoolDir()
  const output = new OutputSpool(dir.spool(1 << 20).path, 1 << 20)
  try {
    return await runSession({
      target: target('127.0.0.1', port),
      command: 'x',
      credentials: { password: 'pw' },
      hostKeys: unchecked,
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 0,
      output,
      ...opts,
    })
  } finally {
    await output.dispose()
    dir.remove()
  }
}

/** A preparation that goes through `steps` at once and gives the command `x`; its cleanup runs `cleanup` on the host. */
function preparation(steps: PreparePhase[]): Prepare {
  return (_client, ctx) => {
    for (const step of steps) ctx.phase(step)
    return Promise.resolve({ command: 'x', cleanup: (client: Client) => runOn(client, 'cleanup') })
  }
}

/** Runs `command` on its own channel; resolves once the channel closed (or could not open). */
function runOn(client: Client, command: string): Promise<void> {
  return new Promise((resolve) => {
    client.exec(command, (err, channel) => {
      if (err) return resolve()
      channel.on('close', () => resolve()).resume()
      channel.stderr.resume()
    })
  })
}

/**
 * An ssh2 server (any password) that calls `session(n, accept)` for the n-th session channel
 * (accept it now or later) and `exec` for each exec request, logging `exec <command>` in order.
 */
async function scriptedServer(script: { session(n: number, accept: () => void): void; exec(command: string, accept: () => ServerChannel): void }) {
  const log: string[] = []
  const server = new ssh2.Server({ hostKeys: [generateKeyPair().private] }, (conn) => {
    conn.on('error', () => undefined)
    conn.on('authentication', (ctx) => ctx.accept())
    let sessions = 0
    conn.on('session', (acceptSession) => {
      script.session(++sessions, () => {
        acceptSession().on('exec', (acceptExec, _reject, info) => {
          const command = withoutRunToken(info.command)
          log.push(`exec ${command}`)
          script.exec(command, acceptExec)
        })
      })
    })
  })
  const sockets = new Set<net.Socket>()
  const listener = net.createServer((socket) => {
    sockets.add(socket.on('error', () => undefined).on('close', () => sockets.delete(socket)))
    server.injectSocket(socket)
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  return {
    port: (listener.address() as net.AddressInfo).port,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}

/** Answers a command at once: exit status 0. */
function done(accept: () => ServerChannel): void {
  const stream = accept()
  stream.exit(0)
  stream.end()
}

describe('a stop while the command is starting, after a preparation', () => {
  for (const [steps, named] of [
    [['script'], 'writing the script-file to the host'],
    [['upload'], 'the upload'],
    [['upload', 'script'], 'the upload and writing the script-file to the host'],
  ] as const) {
    it(`command-timeout while the command's channel is opening (${steps.join(' and ')}): the command did not start, and the channel opening later never runs it`, async () => {
      // The command's channel (session 1) opens only when the cleanup's channel (session 2) is requested, after the session ended.
      let openCommandChannel = (): void => undefined
      const server = await scriptedServer({
        session: (n, accept) => {
          if (n === 1) return void (openCommandChannel = accept)
          openCommandChannel()
          accept()
        },
        exec: (_command, accept) => done(accept),
      })
      try {
        const outcome = await run(server.port, { prepare: preparation([...steps]), commandTimeoutMs: 300 })
        assert.equal(outcome.status, 'timeout', JSON.stringify(outcome))
        assert.match(
          outcome.error!,
          /^command timed out after 300 ms while the command's channel was opening \(\d+ ms went to (.+) before it\); the command did not start$/,
        )
        assert.equal(/went to (.+) before it/.exec(outcome.error!)![1], named)
        // The command's channel opened before the cleanup's: an exec request sent on it would have come first.
        assert.deepEqual(server.log, ['exec cleanup'])
      } finally {
        await server.close()
      }
    })
  }

  it('command-timeout after the exec request went out but before the host answered it: TERM and KILL go to its channel', async () => {
    // The exec request reaches the host long before the timeout (a bound no machine misses) and is never answered.
    const server = await scriptedServer({
      session: (_n, accept) => accept(),
      exec: (command, accept) => {
        if (command === 'x') return
        if (command === 'cleanup') return done(accept)
        accept()
      },
    })
    try {
      const outcome = await run(server.port, { prepare: preparation(['upload', 'script']), commandTimeoutMs: 2_000, killGraceMs: 100, stopWaitMs: 300 })
      assert.equal(outcome.status, 'timeout', JSON.stringify(outcome))
      assert.match(
        outcome.error!,
        /^command timed out after 2 s while the command was starting \(\d+ ms went to the upload and writing the script-file to the host before it\); TERM, then KILL sent, but the command had not ended when the session was closed, so it may still be running on the host$/,
      )
    } finally {
      await server.close()
    }
  })

  it('cancelled after the exec request went out but before the host answered it: TERM and KILL go to its channel', async () => {
    // The command's exec request is never answered (the job is cancelled when it arrives); the sweep starts and
    // never ends; the cleanup ends at once.
    const controller = new AbortController()
    const server = await scriptedServer({
      session: (_n, accept) => accept(),
      exec: (command, accept) => {
        if (command === 'x') return controller.abort()
        if (command === 'cleanup') return done(accept)
        accept()
      },
    })
    try {
      const outcome = await run(server.port, { prepare: preparation(['script']), signal: controller.signal, cancelGraceMs: 100, stopWaitMs: 300 })
      assert.equal(outcome.status, 'cancelled', JSON.stringify(outcome))
      assert.equal(
        outcome.error,
        'cancelled: the job was cancelled while the command was starting; TERM, then KILL sent, but the command had not ended when the session was closed, so it may still be running on the host',
      )
    } finally {
      await server.close()
    }
  })
})

describe('what the preparation staged is removed at the same time as the stop', () => {
  it('cancelled: the removal starts with TERM, not after the stop (here the command ends only once the removal began)', async () => {
    const events: string[] = []
    let running: ServerChannel | null = null
    const server = await startFakeServer({
      auth: { password: 'pw' },
      onExec: (command, stream, info) => {
        events.push(`exec ${command}`)
        if (command === 'x') {
          running = stream
          stream.write('started\n')
          info.onSignal((name) => events.push(`signal ${name}`))
          return
        }
        if (command === 'cleanup' && running) {
          // The command dies of TERM, as a script would, once its directory is being removed.
          running.exit('TERM', false, '')
          running.end()
        }
        stream.exit(0)
        stream.end()
      },
    })
    try {
      const controller = new AbortController()
      const dir = new SpoolDir()
      const output = new OutputSpool(dir.spool(1 << 20).path, 1 << 20)
      const write = output.write.bind(output)
      output.write = (chunk: Buffer) => {
        if (chunk.toString().includes('started')) controller.abort()
        return write(chunk)
      }
      let outcome: SessionOutcome
      try {
        outcome = await runSession({
          target: target('127.0.0.1', server.port),
          command: 'x',
          credentials: { password: 'pw' },
          hostKeys: unchecked,
          connectTimeoutMs: 10_000,
          commandTimeoutMs: 0,
          output,
          signal: controller.signal,
          prepare: preparation(['script']),
          // Far longer than the removal takes: KILL would come first only if the removal waited for the stop.
          cancelGraceMs: 10_000,
        })
      } finally {
        await output.dispose()
        dir.remove()
      }
      assert.equal(outcome.status, 'cancelled', JSON.stringify(outcome))
      assert.equal(outcome.error, 'cancelled: the job was cancelled while the command ran; stopped on the host (TERM)')
      assert.equal(outcome.signal, 'SIGTERM')
      assert.deepEqual(events, ['exec x', 'signal TERM', 'exec cleanup'])
    } finally {
      await server.close()
    }
  })
})
