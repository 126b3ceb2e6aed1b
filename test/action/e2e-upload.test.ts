/**
 * upload / upload-to through the built bundle, run as the runner runs it, against real sshd on
 * loopback: the hosts' filesystem is this machine's, so what arrived is checked here directly.
 */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { results, runAction, type RunOptions } from '../helpers/action.js'
import { loginUser } from '../helpers/fleet.js'
import { closedPort } from '../helpers/net.js'
import { requireSshd, startSshd, type Sshd } from '../helpers/sshd.js'
import { treeOf } from '../helpers/upload.js'

describe('upload through the built action against real sshd', { skip: !requireSshd() && 'sshd not installed' }, () => {
  let s: Sshd
  let workspace: string
  let remoteRoot: string
  before(async () => {
    s = await startSshd({ hostKeyTypes: ['ed25519'], user: await loginUser() })
    workspace = mkdtempSync(join(tmpdir(), 'ssh-fanout-ws-'))
    chmodSync(workspace, 0o755)
    const dist = join(workspace, 'dist')
    mkdirSync(join(dist, 'lib/deep'), { recursive: true })
    mkdirSync(join(dist, 'empty'))
    writeFileSync(join(dist, 'lib/deep/app.js'), 'console.log("app")\n')
    writeFileSync(join(dist, 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 })
    writeFileSync(join(dist, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7))
    symlinkSync('lib/deep/app.js', join(dist, 'current.js'))
    // The hosts write where the login user may: a directory of its own under /tmp.
    remoteRoot = `/tmp/ssh-fanout-e2e-upload-${process.pid}-${Date.now()}`
  })
  after(async () => {
    await s?.stop()
    for (const dir of [workspace, remoteRoot]) if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const base = () => ({ hosts: `${s.host}:${s.port}`, username: s.username, 'private-key': s.clientKey, 'known-hosts': s.knownHosts })
  const run = (inputs: Record<string, string>, opts: RunOptions = {}) => runAction(inputs, { ...opts, env: { GITHUB_WORKSPACE: workspace, ...opts.env } })

  it('dist/ sends the contents and dist the directory: bytes, modes, symlink and empty dir arrive before the command runs', async () => {
    const contents = `${remoteRoot}/contents`
    const r = await run({
      ...base(),
      upload: 'dist/',
      'upload-to': contents,
      command: `cd ${contents} && ./run.sh && cat current.js && test -d empty && echo has-empty`,
    })
    assert.equal(r.code, 0, r.stdout)
    assert.equal(results(r)[0].status, 'success')
    assert.match(r.stdout, /^run$/m)
    assert.match(r.stdout, /^console\.log\("app"\)$/m)
    assert.match(r.stdout, /^has-empty$/m)
    assert.match(r.stdout, /ssh-fanout: upload: 3 files \(\d+ entries, [\d.]+ MB packed\) go to /)
    assert.deepEqual(await treeOf(contents), await treeOf(join(workspace, 'dist')))

    const itself = `${remoteRoot}/itself`
    const r2 = await run({ ...base(), upload: 'dist', 'upload-to': itself, command: 'true' })
    assert.equal(r2.code, 0, r2.stdout)
    assert.deepEqual(readdirSync(itself), ['dist'])
    assert.deepEqual(await treeOf(join(itself, 'dist')), await treeOf(join(workspace, 'dist')))
    assert.ok(!readdirSync(itself, { recursive: true }).some((n) => String(n).includes('.ssh-fanout-')), 'no staging left')
  })

  it('a pattern matching nothing fails the step before any host is contacted', async () => {
    const port = await closedPort()
    const r = await run({ ...base(), hosts: `127.0.0.1:${port}`, upload: 'dist/\nbuild/*.tar.gz', 'upload-to': '/srv/app', command: 'true' })
    assert.equal(r.code, 1)
    assert.match(r.stdout, /::error::Input "upload": .*build\/\*\.tar\.gz/)
    assert.ok(!r.stdout.includes('ssh-fanout: running on'), r.stdout)
    assert.equal(r.outputs.results, undefined)
    const noTarget = await run({ ...base(), upload: 'dist/', command: 'true' })
    assert.match(noTarget.stdout, /::error::Input "upload-to": is required when upload is set/)
  })

  it('an unwritable target ends the host error with upload: and the reason, and its command is not run', async () => {
    const marker = join(remoteRoot, 'command-ran')
    const r = await run({ ...base(), upload: 'dist/', 'upload-to': '/proc/ssh-fanout-cannot-write-here', command: `mkdir -p ${remoteRoot} && touch ${marker}` })
    assert.equal(r.code, 1, r.stdout)
    const [e] = results(r)
    assert.equal(e.status, 'error')
    assert.match(String(e.error), /^upload: .*\(.+\)/)
    assert.equal(e.attempts, 1, 'an upload failure is not retried')
    assert.ok(!existsSync(marker), 'the command ran after a failed upload')
  })

  it('command-timeout covers the upload and says which phase it hit', async () => {
    // The command phase: the upload is quick, the command is not.
    const r = await run({ ...base(), upload: 'dist/run.sh', 'upload-to': `${remoteRoot}/timeout`, command: 'sleep 30', 'command-timeout': '5s' })
    const [e] = results(r)
    assert.equal(e.status, 'timeout', r.stdout)
    assert.match(String(e.error), /^command timed out after 5 s during the command \(.+ went to the upload before it\)/)
    assert.ok(existsSync(`${remoteRoot}/timeout/run.sh`))
  })
})
