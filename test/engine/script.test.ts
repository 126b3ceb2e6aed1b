/** The script-file's #! line, read as Linux reads it, and the command that runs the staged file. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, it } from 'node:test'
import { isStagedDir, parseShebang, readScript, scriptCommand } from '../../src/engine/prepare/script.js'

const execFileP = promisify(execFile)

describe('parseShebang', () => {
  it('splits the interpreter from one optional argument, as the kernel does', () => {
    assert.deepEqual(parseShebang(Buffer.from('#!/bin/bash\necho hi\n')), ['/bin/bash'])
    assert.deepEqual(parseShebang(Buffer.from('#! /usr/bin/env  python3 -u \r\nprint(1)\n')), ['/usr/bin/env', 'python3 -u'])
    assert.deepEqual(parseShebang(Buffer.from('#!/bin/sh -eu')), ['/bin/sh', '-eu'])
  })
  it('finds none without #! at the very start', () => {
    for (const text of ['echo hi\n', ' #!/bin/bash\n', '#!\n', '', '# !/bin/bash\n']) assert.equal(parseShebang(Buffer.from(text)), null, text)
  })
})

describe('isStagedDir', () => {
  it("accepts only an absolute path ending in mktemp's ssh-fanout.XXXXXXXXXX", () => {
    for (const ok of ['/tmp/ssh-fanout.AbCdEf1234', '/ssh-fanout.0123456789', "/var/my tmp/it's/ssh-fanout.zzzzzzzzzz"]) assert.ok(isStagedDir(ok), ok)
    const bad = ['', '/', '/tmp', 'tmp/ssh-fanout.AbCdEf1234', '/tmp/ssh-fanout.AbCdEf123', '/tmp/ssh-fanout.AbCdEf12345', '/tmp/ssh-fanout.AbCdEf1234/']
    for (const no of [
      ...bad,
      '/tmp/ssh-fanout.AbCd-f1234',
      '/tmp/x\n/ssh-fanout.AbCdEf1234',
      '/tmp/ssh-fanout.AbCdEf1234\n',
      'Welcome/tmp/ssh-fanout.AbCdEf1234',
    ]) {
      assert.ok(!isStagedDir(no), JSON.stringify(no))
    }
  })
})

describe('scriptCommand', () => {
  const dir = '/tmp/ssh-fanout.AbCdEf1234'
  it('holds the file on descriptor 9, removes the directory, then runs the interpreter on /dev/fd/9 after the environment prefix', () => {
    assert.equal(
      scriptCommand("A='1'\nexport A\n", readScript(Buffer.from('#!/bin/bash -e\n')), dir),
      [
        `exec 9< '${dir}/script' || exit 126`,
        `if env test -r /dev/fd/9; then rm -rf -- '${dir}'; set -- /dev/fd/9; else set -- '${dir}/script'; fi`,
        `A='1'`,
        'export A',
        `exec '/bin/bash' '-e' "$1"`,
      ].join('\n'),
    )
    const odd = "/tmp/it's/ssh-fanout.AbCdEf1234"
    assert.match(
      scriptCommand('', readScript(Buffer.from('echo hi\n')), odd),
      /^exec 9< '\/tmp\/it'\\''s\/ssh-fanout\.AbCdEf1234\/script' .*\nexec 'sh' "\$1"$/s,
    )
  })
  it('gives node --preserve-symlinks-main (it resolves its script through /dev/fd to a removed path otherwise)', () => {
    const last = (shebang: string) =>
      scriptCommand('', readScript(Buffer.from(`${shebang}\n`)), dir)
        .split('\n')
        .at(-1)
    assert.equal(last('#!/usr/bin/node'), `exec '/usr/bin/node' '--preserve-symlinks-main' "$1"`)
    assert.equal(last('#!/usr/bin/env node'), `exec '/usr/bin/env' 'node' '--preserve-symlinks-main' "$1"`)
    assert.equal(last('#!/usr/bin/env -S node --no-warnings'), `exec '/usr/bin/env' '-S node --no-warnings --preserve-symlinks-main' "$1"`)
    assert.equal(last('#!/usr/bin/env python3'), `exec '/usr/bin/env' 'python3' "$1"`)
  })
  it('refuses a directory mktemp did not make', () => {
    assert.throws(() => scriptCommand('', readScript(Buffer.from('true\n')), '/'), /not a staged script directory/)
  })
})

describe('the run command, run here by sh', () => {
  /** Stages `text` as the host would, runs scriptCommand under `sh -c` with stdin closed; the directory must be gone meanwhile. */
  const run = async (text: string, envPrefix = '') => {
    const tmp = mkdtempSync(join(tmpdir(), 'ssh-fanout-script-test-'))
    const dir = join(tmp, 'ssh-fanout.AbCdEf1234')
    try {
      mkdirSync(dir, { mode: 0o700 })
      writeFileSync(join(dir, 'script'), text, { mode: 0o700 })
      const child = execFileP('/bin/sh', ['-c', scriptCommand(envPrefix, readScript(Buffer.from(text)), dir)], { encoding: 'utf8' })
      child.child.stdin?.end()
      const { stdout } = await child
      return { stdout, left: existsSync(dir) }
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  }
  it('sh, bash, python3, perl and node (also through env) read the script from the descriptor; $0 is /dev/fd/9; stdin is as the command had it', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['', 'echo "sh $0"; cat; echo "stdin=$?"; ls "$(dirname "$0")" >/dev/null && echo ok', /^sh \/dev\/fd\/9\nstdin=0\nok\n$/],
      ['#!/bin/bash', 'echo "bash $0 ${BASH_SOURCE[0]} $GREETING"', /^bash \/dev\/fd\/9 \/dev\/fd\/9 hi there\n$/],
      ['#!/usr/bin/env python3', 'import sys\nprint("python", sys.argv[0], sys.stdin.read() == "")', /^python \/dev\/fd\/9 True\n$/],
      ['#!/usr/bin/perl', 'print "perl $0\\n";', /^perl \/dev\/fd\/9\n$/],
      ['#!/usr/bin/env node', 'console.log("node", process.argv[1])', /^node \/dev\/fd\/9\n$/],
    ]
    for (const [shebang, body, expected] of cases) {
      const r = await run(`${shebang}\n${body}\n`, "GREETING='hi there'\nexport GREETING\n")
      assert.match(r.stdout, expected, shebang)
      assert.equal(r.left, false, `${shebang}: the directory was left`)
    }
  })
})
