/**
 * What the host is left with, through the built bundle run as the runner runs it, against a real
 * sshd whose login shell prints a banner (bash sourcing ~/.bashrc) and whose sessions have their
 * own TMPDIR: script-file works past the banner and leaves no ssh-fanout.* directory after a
 * normal run, a timeout, a cancel or a dropped connection, while the script runs or while it is
 * being written; upload keeps setgid and sticky directory modes and takes a directory name with
 * a newline.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { chown, mkdtemp, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { results, runAction, type RunOptions } from '../helpers/action.js'
import { BANNER_OUT, controlledProxy, startBannerHost, type BannerHost, type ControlledProxy } from '../helpers/banner-host.js'
import { requireSshd } from '../helpers/sshd.js'
import { treeOf } from '../helpers/upload.js'

describe('script-file and upload on a host whose login shell prints, with its own TMPDIR', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let host: BannerHost
  let workspace: string
  before(async () => {
    host = await startBannerHost()
    workspace = mkdtempSync(join(tmpdir(), 'ssh-fanout-ws-'))
    chmodSync(workspace, 0o755)
    const dist = join(workspace, 'dist')
    for (const [dir, mode] of [
      ['shared', 0o2775],
      ['drop', 0o1777],
      ['new\nline', 0o755],
    ] as const) {
      mkdirSync(join(dist, dir), { recursive: true })
      chmodSync(join(dist, dir), mode)
    }
    writeFileSync(join(dist, 'shared', 'app.txt'), 'app\n')
    writeFileSync(join(dist, 'new\nline', 'x.txt'), 'x\n')
  })
  after(async () => {
    await host?.stop()
    if (workspace) rmSync(workspace, { recursive: true, force: true })
  })

  /** Inputs for the host, or for it through `proxy`. */
  const base = (proxy?: ControlledProxy) => {
    const { sshd } = host
    const to = proxy ?? sshd
    return {
      hosts: `${to.host}:${to.port}`,
      username: sshd.username,
      'private-key': sshd.clientKey,
      'known-hosts': sshd.knownHosts.replaceAll(`[${sshd.host}]:${sshd.port}`, `[${to.host}]:${to.port}`),
      command: '',
    }
  }
  const run = (inputs: Record<string, string>, opts: RunOptions = {}) => runAction(inputs, { ...opts, env: { GITHUB_WORKSPACE: workspace, ...opts.env } })
  const script = (name: string, text: string) => {
    writeFileSync(join(workspace, name), text)
    return name
  }
  const nothingLeft = async () => assert.ok(await host.noneStaged(), `left in the host's TMPDIR: ${(await host.staged()).join(', ')}`)

  it('runs a script-file past the banner and leaves nothing in TMPDIR', async () => {
    const r = await run({ ...base(), 'script-file': script('hello.sh', '#!/bin/sh\necho "hello from $0"\n') })
    assert.equal(r.code, 0, r.stdout)
    assert.equal(results(r)[0].status, 'success')
    assert.match(r.stdout, /hello from \/dev\/fd\/9$/m)
    assert.ok(r.stdout.includes(BANNER_OUT), 'the banner host printed no banner')
    await nothingLeft()
  })

  it('uploads setgid and sticky directories with their modes and a directory named with a newline, then runs the script-file', async () => {
    const dest = await mkdtemp(join(host.tmp, 'dest-'))
    const owner = await stat(host.tmp)
    await chown(dest, owner.uid, owner.gid)
    const r = await run({ ...base(), upload: 'dist/', 'upload-to': dest, 'script-file': script('check.sh', `cat ${dest}/shared/app.txt\n`) })
    assert.equal(r.code, 0, r.stdout)
    assert.match(r.stdout, /^app$/m)
    const tree = await treeOf(dest)
    assert.deepEqual([tree.shared, tree.drop, tree['new\nline']], ['dir 2775', 'dir 1777', 'dir 755'])
    assert.deepEqual(tree, await treeOf(join(workspace, 'dist')))
    await nothingLeft()
  })

  it('a timeout and a cancel while the script runs leave nothing in TMPDIR', async () => {
    const timedOut = await run({ ...base(), 'script-file': script('slow.sh', 'sleep 60\n'), 'command-timeout': '2s' })
    assert.equal(results(timedOut)[0].status, 'timeout', timedOut.stdout)
    await nothingLeft()
    const started = host.whenFile('started')
    const cancelled = await run(
      { ...base(), 'script-file': script('hang.sh', 'touch "$TMPDIR/started"; sleep 60\n') },
      { onSpawn: (child) => void started.then(() => child.kill('SIGINT')) },
    )
    assert.equal(results(cancelled)[0].status, 'cancelled', cancelled.stdout)
    await host.clear()
    await nothingLeft()
  })

  it('a connection dropped while the script runs leaves nothing in TMPDIR', async () => {
    const proxy = await controlledProxy(host.sshd)
    try {
      const started = host.whenFile('started')
      void started.then(() => proxy.cut())
      const r = await run({ ...base(proxy), 'script-file': script('cut.sh', 'touch "$TMPDIR/started"; sleep 60\n'), retries: '0' })
      const [e] = results(r)
      assert.equal(e.status, 'error', r.stdout)
      assert.match(String(e.error), /^connection lost after /)
      await host.clear()
      await nothingLeft()
    } finally {
      await proxy.close()
    }
  })

  for (const how of ['timeout', 'cancel'] as const) {
    it(`a ${how} while the script is being written leaves nothing in TMPDIR`, async () => {
      // the proxy passes 1 MiB, then nothing: a 4 MiB script cannot arrive
      const proxy = await controlledProxy(host.sshd, 1024 * 1024)
      const big = script('big.sh', `#!/bin/sh\n${'# padding padding padding padding padding padding padding\n'.repeat(80_000)}echo never\n`)
      try {
        const staged = host.whenStaged()
        const r = await run(
          { ...base(proxy), 'script-file': big, ...(how === 'timeout' ? { 'command-timeout': '3s' } : {}) },
          { onSpawn: (child) => void proxy.stalled.then(() => how === 'cancel' && child.kill('SIGINT')) },
        )
        const [e] = results(r)
        assert.equal(e.status, how === 'timeout' ? 'timeout' : 'cancelled', r.stdout)
        assert.match(String(e.error), /during writing the script-file to the host; the command was not run$/)
        await staged
        await nothingLeft()
      } finally {
        await proxy.close()
      }
    })
  }
})
