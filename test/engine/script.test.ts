/** The script-file's #! line, read as Linux reads it, and the command that runs the staged file. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseShebang, readScript, scriptCommand } from '../../src/engine/prepare/script.js'

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

describe('scriptCommand', () => {
  it('runs the file with its interpreter, quoted, after the environment prefix; sh without #!', () => {
    assert.equal(
      scriptCommand("A='1'\nexport A\n", readScript(Buffer.from('#!/bin/bash -e\n')), '/tmp/ssh-fanout.x'),
      "A='1'\nexport A\nexec '/bin/bash' '-e' '/tmp/ssh-fanout.x/script'",
    )
    assert.equal(scriptCommand('', readScript(Buffer.from('echo hi\n')), "/tmp/it's"), "exec 'sh' '/tmp/it'\\''s/script'")
  })
})
