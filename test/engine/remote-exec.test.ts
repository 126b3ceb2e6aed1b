/**
 * remoteExec, the one "exec, collect, close on abort" loop, against a real sshd whose login shell
 * prints a banner (bash sourcing ~/.bashrc for sshd's commands): the marker protocol drops it;
 * and how a run ends (exit, timeout, abort, lost connection, no channel).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Readable } from 'node:stream'
import { remoteExec } from '../../src/engine/ssh/remote-exec.js'
import { BANNER_ERR, BANNER_OUT, controlledProxy, startBannerHost, type BannerHost } from '../helpers/banner-host.js'
import { requireSshd } from '../helpers/sshd.js'
import { connectClient } from '../helpers/upload.js'

describe('remoteExec on a host whose login shell prints', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let host: BannerHost
  before(async () => {
    host = await startBannerHost()
  })
  after(async () => {
    await host?.stop()
  })

  it('the login shell really prints: without the marker protocol the banner is in the output', async () => {
    const client = await connectClient(host.sshd)
    try {
      const r = await remoteExec(client, { command: 'echo out; echo err >&2' })
      assert.deepEqual([r.end, r.code, r.ready], ['exit', 0, true])
      assert.equal(r.stdout, `${BANNER_OUT}out\n`)
      assert.equal(r.stderr, `${BANNER_ERR}\nerr\n`)
    } finally {
      client.end()
    }
  })

  it('with the marker: the banner is dropped from stdout and stderr, marker lines carry results, stdin is sent once the marker arrived', async () => {
    const client = await connectClient(host.sshd)
    try {
      const r = await remoteExec(client, {
        command: (m) => `${m.stderrLine}; echo mine >&2; ${m.line()}; n=$(wc -c); ${m.line('"$n bytes"')}; echo plain; ${m.line('"second result"')}`,
        stdin: Buffer.from('hello\n'),
      })
      assert.deepEqual([r.end, r.code, r.signal, r.ready], ['exit', 0, null, true])
      assert.deepEqual(r.lines, ['6 bytes', 'second result'])
      assert.equal(r.stdout, 'plain\n')
      assert.equal(r.stderr, 'mine\n')
      // a stream given for stdin is opened once the marker arrived
      let opened = false
      const streamed = await remoteExec(client, {
        command: (m) => `${m.line()}; ${m.line('"$(wc -c)"')}`,
        stdin: () => {
          opened = true
          return Readable.from([Buffer.alloc(100_000, 1), Buffer.alloc(23, 2)])
        },
      })
      assert.ok(opened)
      assert.deepEqual([streamed.end, streamed.code, streamed.lines], ['exit', 0, ['100023']])
    } finally {
      client.end()
    }
  })

  it('a command that ends before its marker is not ready, and keeps all of stderr', async () => {
    const client = await connectClient(host.sshd)
    try {
      const r = await remoteExec(client, { command: (m) => `echo why >&2; exit 3; ${m.line()}` })
      assert.deepEqual([r.end, r.code, r.ready, r.lines], ['exit', 3, false, []])
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, `${BANNER_ERR}\nwhy\n`)
    } finally {
      client.end()
    }
  })

  it('a timeout or an abort closes the channel; a closed connection ends it lost; a client that is not connected gets no channel', async () => {
    const client = await connectClient(host.sshd)
    try {
      const timedOut = await remoteExec(client, { command: (m) => `${m.line()}; sleep 60`, timeoutMs: 300 })
      assert.deepEqual([timedOut.end, timedOut.code], ['timeout', null])
      const controller = new AbortController()
      const aborted = await remoteExec(client, { command: 'sleep 60', signal: controller.signal, onOpen: () => controller.abort() })
      assert.equal(aborted.end, 'aborted')
      // the connection still serves other channels
      assert.equal((await remoteExec(client, { command: (m) => m.line('ok') })).lines[0], 'ok')
    } finally {
      client.end()
    }
    const proxy = await controlledProxy(host.sshd)
    const cut = await connectClient(host.sshd, proxy)
    cut.on('error', () => undefined)
    try {
      const r = await remoteExec(cut, { command: 'sleep 60', onOpen: () => proxy.cut() })
      assert.ok(r.end === 'lost' || r.end === 'closed', r.end)
      assert.equal(r.code, null)
      const after = await remoteExec(cut, { command: 'true' })
      assert.equal(after.end, 'no channel')
      assert.ok(after.error instanceof Error)
    } finally {
      cut.end()
      await proxy.close()
    }
  })
})
