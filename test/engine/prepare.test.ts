/**
 * The preparation phase of a session (upload, script staging) against an in-process ssh2 server
 * whose upload never completes: command-timeout and cancellation hit during the upload, say so,
 * and the command is never sent.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pack } from 'tar-stream'
import { SpoolDir } from '../../src/engine/output/spool.js'
import { preparer } from '../../src/engine/prepare/prepare.js'
import { runSession, type SessionOptions } from '../../src/engine/host/session.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { target } from '../helpers/engine.js'
import { startFakeServer, type FakeServer } from '../helpers/ssh2-server.js'

/** A tar archive holding one file. */
function tarOf(name: string, data: Buffer): Promise<Buffer> {
  const p = pack()
  const parts: Buffer[] = []
  p.on('data', (chunk) => void parts.push(chunk as Buffer))
  const done = new Promise<Buffer>((resolve) => p.on('end', () => resolve(Buffer.concat(parts))))
  p.entry({ name, size: data.length }, data)
  p.finalize()
  return done
}

describe('a session whose upload does not finish', () => {
  let server: FakeServer
  let dir: string
  let archivePath: string
  /** Resolves when the server received the first upload bytes. */
  let receiving: Promise<void>
  let received = (): void => undefined
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-fanout-prepare-'))
    archivePath = join(dir, 'upload.tar')
    writeFileSync(archivePath, await tarOf('big.bin', Buffer.alloc(8 * 1024 * 1024, 1)))
    // The upload's channel reads a little, then nothing more, and never ends: the upload hangs.
    server = await startFakeServer({
      onExec: (command, stream) => {
        if (!command.includes('ssh-fanout-upload')) {
          stream.exit(0)
          stream.end()
          return
        }
        // the upload script's ready line: the marker, whose halves end its command line
        const [, a, b] = / ([0-9a-f]{16}) ([0-9a-f]{16})$/.exec(command)!
        stream.write(`\n${a}${b}\n`)
        stream.once('data', () => {
          stream.pause()
          received()
        })
      },
    })
  })
  after(async () => {
    await server?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const run = async (opts: Partial<SessionOptions>) => {
    const spools = new SpoolDir()
    const output = spools.spool(1 << 20)
    try {
      return await runSession({
        target: target('127.0.0.1', server.port),
        command: 'echo never',
        credentials: { password: 'any' },
        hostKeys: hostKeyPolicy({ strict: false, knownHosts: null, fingerprints: [] }),
        connectTimeoutMs: 10_000,
        commandTimeoutMs: 0,
        output,
        prepare: preparer({ envPrefix: '', command: 'echo never', upload: { archivePath, bytes: 8 * 1024 * 1024, remoteDir: '/srv/app' } }),
        ...opts,
      })
    } finally {
      await output.dispose()
      spools.remove()
    }
  }

  it('command-timeout during the upload ends the host timeout, naming the phase, and the command is not run', async () => {
    const before = server.commands.length
    const outcome = await run({ commandTimeoutMs: 1_500 })
    assert.equal(outcome.status, 'timeout')
    assert.match(String(outcome.error), /^command timed out after 1\.5 s during upload \(\d+ bytes sent\); the command was not run$/)
    assert.equal(outcome.retryable, false)
    assert.ok(!server.commands.slice(before).includes('echo never'))
  })

  it('cancelling during the upload ends the host cancelled, and the command is not run', async () => {
    const controller = new AbortController()
    const before = server.commands.length
    receiving = new Promise((resolve) => (received = resolve))
    void receiving.then(() => controller.abort())
    const outcome = await run({ signal: controller.signal })
    assert.equal(outcome.status, 'cancelled')
    assert.equal(outcome.error, 'cancelled: the job was cancelled during upload; the command was not run')
    assert.ok(!server.commands.slice(before).includes('echo never'))
  })
})
