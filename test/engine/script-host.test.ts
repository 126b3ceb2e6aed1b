/**
 * script-file on a real sshd whose login shell prints a banner and whose sessions have their own
 * TMPDIR: staging reads its directory from the marker line, the run removes its own directory
 * once the interpreter holds the file, and a staging cut short (timeout, cancel, dropped
 * connection) is removed on the host without the client. The client still removes a staged
 * directory whose command did not run it, and only a path mktemp makes.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { preparer } from '../../src/engine/prepare/prepare.js'
import { readScript, stageScript } from '../../src/engine/prepare/script.js'
import type { SessionOptions, SessionOutcome } from '../../src/engine/host/session.js'
import { hostKeyPolicy } from '../../src/engine/trust/policy.js'
import { runCapturing } from '../helpers/engine.js'
import { BANNER_OUT, controlledProxy, startBannerHost, type BannerHost } from '../helpers/banner-host.js'
import { target } from '../helpers/engine.js'
import { startFakeServer } from '../helpers/ssh2-server.js'
import { requireSshd } from '../helpers/sshd.js'
import { connectClient } from '../helpers/upload.js'

const unchecked = hostKeyPolicy({ strict: false, knownHosts: null, fingerprints: [] })

function run(opts: Pick<SessionOptions, 'target' | 'credentials' | 'prepare'> & Partial<SessionOptions>): Promise<{ outcome: SessionOutcome; text: string }> {
  return runCapturing({ command: 'never', hostKeys: unchecked, ...opts })
}

/** A script too big to pass a proxy that stalls after 1 MiB: its staging cannot finish. */
const BIG_SCRIPT = readScript(Buffer.from(`#!/bin/sh\n${'# padding padding padding padding padding padding padding\n'.repeat(80_000)}echo never\n`))

for (const banner of [true, false]) {
  describe(
    `script-file on a host ${banner ? 'whose login shell prints' : 'without a banner'}, with its own TMPDIR`,
    { skip: !requireSshd() && 'sshd not installed' },
    () => {
      let host: BannerHost
      before(async () => {
        host = await startBannerHost({ banner })
      })
      after(async () => {
        await host?.stop()
      })
      const direct = () => ({ target: target(host.sshd.host, host.sshd.port, host.sshd.username), credentials: { privateKey: host.sshd.clientKey } })
      const script = (text: string) => preparer({ envPrefix: "GREETING='hi'\nexport GREETING\n", command: 'never', script: readScript(Buffer.from(text)) })

      it(`stageScript reads the directory from its marker line${banner ? ', past the banner' : ''}`, async () => {
        const client = await connectClient(host.sshd)
        try {
          const dir = await stageScript(client, readScript(Buffer.from('echo staged\n')), new AbortController().signal)
          assert.match(dir, new RegExp(`^${host.tmp}/ssh-fanout\\.[A-Za-z0-9]{10}$`))
          assert.deepEqual(await host.staged(), [dir.slice(host.tmp.length + 1)])
        } finally {
          client.end()
          await host.clear()
        }
      })

      it('runs the script (env, stdin closed) and leaves nothing in TMPDIR; the directory is gone before the script runs', async () => {
        const { outcome, text } = await run({
          ...direct(),
          prepare: script(
            '#!/bin/bash\necho "greeting=$GREETING"\necho "staged=$(readlink /dev/fd/9)"\ncat\necho "stdin=$?"\necho "left=$(ls "$TMPDIR" | grep -c "^ssh-fanout\\.")"',
          ),
        })
        assert.equal(outcome.status, 'success', String(outcome.error))
        assert.match(text, /^greeting=hi$/m)
        assert.match(text, new RegExp(`^staged=${host.tmp}/ssh-fanout\\.[A-Za-z0-9]{10}/script \\(deleted\\)$`, 'm'))
        assert.match(text, /^stdin=0$/m)
        assert.match(text, /^left=0$/m, 'the staged directory was still there while the script ran')
        if (banner) assert.ok(text.startsWith(BANNER_OUT), 'the login shell printed its banner before the command too')
        assert.deepEqual(await host.staged(), [])
      })

      it('a connection dropped while the script runs leaves nothing in TMPDIR (the host removed it, not the client)', async () => {
        const proxy = await controlledProxy(host.sshd)
        try {
          const started = host.whenFile('started')
          const running = run({ ...direct(), target: target(proxy.host, proxy.port, host.sshd.username), prepare: script('touch "$TMPDIR/started"; sleep 60') })
          await started
          proxy.cut()
          const { outcome } = await running
          assert.equal(outcome.errorKind, 'connection lost', JSON.stringify(outcome))
          assert.deepEqual(await host.staged(), [])
        } finally {
          await proxy.close()
          await host.clear()
        }
      })

      for (const how of ['timeout', 'cancel', 'dropped connection'] as const) {
        it(`a ${how} while the script is being written: the host removes the partial script and its directory`, async () => {
          const proxy = await controlledProxy(host.sshd, 1024 * 1024)
          const controller = new AbortController()
          try {
            const staged = host.whenStaged()
            void proxy.stalled.then(() => (how === 'cancel' ? controller.abort() : how === 'dropped connection' ? proxy.cut() : undefined))
            const { outcome } = await run({
              ...direct(),
              target: target(proxy.host, proxy.port, host.sshd.username),
              prepare: preparer({ envPrefix: '', command: 'never', script: BIG_SCRIPT }),
              signal: controller.signal,
              commandTimeoutMs: how === 'timeout' ? 2_000 : 0,
            })
            const expected = {
              timeout: ['timeout', /^command timed out after 2 s during writing the script-file to the host; the command was not run$/],
              cancel: ['cancelled', /^cancelled: the job was cancelled during writing the script-file to the host; the command was not run$/],
              'dropped connection': ['error', /./],
            } as const
            assert.equal(outcome.status, expected[how][0], String(outcome.error))
            assert.match(String(outcome.error), expected[how][1])
            if (how === 'dropped connection') assert.equal(outcome.errorKind, 'connection lost')
            await staged // the directory was made on the host
            proxy.cut() // the stalled connection is closed on the host's side too
            assert.ok(await host.noneStaged(), `left in TMPDIR: ${(await host.staged()).join(', ')}`)
          } finally {
            await proxy.close()
          }
        })
      }
    },
  )
}

describe('the client-side removal of a staged script', () => {
  it('removes a staged directory whose command did not run it, and never a path mktemp did not make', async () => {
    for (const [dir, removed] of [
      ['/tmp/ssh-fanout.AbCdEf1234', true],
      ['/tmp', false],
    ] as const) {
      const server = await startFakeServer({
        auth: { password: 'pw' },
        onExec: (command, stream) => {
          if (command.includes('ssh-fanout-stage')) {
            // the staging command: its marker line (with the directory) after a banner, then exit 0 once stdin ended
            const [, a, b] = / ([0-9a-f]{16}) ([0-9a-f]{16})$/.exec(command)!
            stream.write(`banner\n${a}${b} ${dir}\n`)
            stream
              .on('data', () => undefined)
              .on('end', () => {
                stream.exit(0)
                stream.end()
              })
            return
          }
          // the command or the removal: ends without running anything
          stream.exit(command.startsWith('exec 9<') ? 1 : 0)
          stream.end()
        },
      })
      try {
        const { outcome } = await run({
          target: target('127.0.0.1', server.port),
          credentials: { password: 'pw' },
          prepare: preparer({ envPrefix: '', command: 'never', script: readScript(Buffer.from('true\n')) }),
        })
        const removals = server.commands.filter((c) => c.startsWith('rm -rf'))
        if (removed) {
          assert.equal(outcome.status, 'failed', String(outcome.error))
          assert.deepEqual(removals.length, 1)
          assert.ok(removals[0].startsWith(`rm -rf -- '${dir}';`), removals[0])
        } else {
          assert.equal(outcome.status, 'error')
          assert.match(
            String(outcome.error),
            /^upload: could not write the script-file to a private temporary file on the host \(the host named an unexpected temporary directory "\/tmp"\)$/,
          )
          assert.deepEqual(removals, [])
        }
      } finally {
        await server.close()
      }
    }
  })
})
