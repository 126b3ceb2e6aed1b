import assert from 'node:assert/strict'
import { existsSync, statSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SpoolDir } from '../../src/engine/output/spool.js'

async function readAll(spool: { chunks(): AsyncGenerator<Buffer> }): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of spool.chunks()) parts.push(c)
  return Buffer.concat(parts)
}

describe('OutputSpool', () => {
  it('keeps the whole output, in order, when it fits', async () => {
    const dir = new SpoolDir()
    const spool = dir.spool(1024)
    await spool.write(Buffer.from('hello '))
    await spool.write(Buffer.from('world\n'))
    assert.equal((await readAll(spool)).toString(), 'hello world\n')
    assert.equal(spool.totalBytes, 12)
    assert.equal(spool.omittedBytes, 0)
    await spool.dispose()
    assert.equal(existsSync(spool.path), false)
    dir.remove()
  })

  it('keeps output that fits the 16 KiB kept in memory off the disk; larger output goes to a private file, whole', async () => {
    const dir = new SpoolDir()
    const spool = dir.spool(1 << 20)
    const line = Buffer.from(`${'x'.repeat(1023)}\n`)
    for (let i = 0; i < 16; i++) await spool.write(line)
    assert.equal(existsSync(spool.path), false, '16 KiB: in memory only')
    assert.equal((await readAll(spool)).length, 16 * 1024)
    await spool.write(Buffer.from('the 16385th byte and more\n'))
    assert.equal(statSync(spool.path).mode & 0o777, 0o600)
    assert.equal((await readAll(spool)).toString(), line.toString().repeat(16) + 'the 16385th byte and more\n')
    await spool.dispose()
    assert.equal(existsSync(spool.path), false)
    dir.remove()
  })

  it('keeps the head and the tail with a notice when the output is larger than the limit', async () => {
    const dir = new SpoolDir()
    const spool = dir.spool(100)
    const all = Buffer.from(Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''))
    for (let i = 0; i < all.length; i += 37) void spool.write(all.subarray(i, i + 37))
    const out = (await readAll(spool)).toString()
    assert.ok(out.startsWith(all.subarray(0, 50).toString()))
    assert.ok(out.endsWith(all.subarray(950).toString()))
    assert.match(out, /900 bytes of output left out/)
    await spool.dispose()
    dir.remove()
  })

  it('head + tail equal the input for any chunking and limit (property)', async () => {
    await fc.assert(
      // Small limits cut in memory's range; large ones let the output pass the 16 KiB kept in memory before the file.
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 3000 }), { maxLength: 30 }),
        fc.oneof(fc.integer({ min: 2, max: 500 }), fc.integer({ min: 10_000, max: 60_000 })),
        async (chunks, max) => {
          const dir = new SpoolDir()
          const spool = dir.spool(max)
          for (const c of chunks) void spool.write(Buffer.from(c))
          const all = Buffer.concat(chunks.map((c) => Buffer.from(c)))
          const out = await readAll(spool)
          if (all.length <= max) {
            assert.deepEqual(out, all)
          } else {
            const head = Math.floor(max / 2)
            const tail = max - head
            assert.deepEqual(out.subarray(0, head), all.subarray(0, head))
            assert.deepEqual(out.subarray(out.length - tail), all.subarray(all.length - tail))
            assert.match(out.subarray(head, out.length - tail).toString(), new RegExp(`${all.length - max} bytes of output left out`))
          }
          await spool.dispose()
          dir.remove()
        },
      ),
      { numRuns: 150 },
    )
  })

  it('gives the last lines of the output, CR/LF and invalid UTF-8 tolerated', async () => {
    const dir = new SpoolDir()
    const spool = dir.spool(1 << 20)
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`)
    await spool.write(Buffer.from(lines.join('\r\n') + '\r\n'))
    assert.deepEqual(spool.tailLines(), lines.slice(-20))
    await spool.write(Buffer.from([0xff, 0xfe, 0x41, 0x0a]))
    assert.equal(spool.tailLines().at(-1), '\ufffd\ufffdA')
    await spool.dispose()
    dir.remove()
  })

  it('keeps the tail lines bounded in memory for huge output and drops a partial first line', async () => {
    const dir = new SpoolDir()
    const spool = dir.spool(1024)
    for (let i = 0; i < 2000; i++) void spool.write(Buffer.from(`row ${i} ${'x'.repeat(50)}\n`))
    await spool.flush()
    const tail = spool.tailLines()
    assert.equal(tail.length, 20)
    assert.equal(tail.at(-1), `row 1999 ${'x'.repeat(50)}`)
    assert.match(tail[0], /^row 1980 /)
    await spool.dispose()
    dir.remove()
  })
})

describe('OutputSpool cuts and secrets', () => {
  // Letters that appear neither in the filler nor in the notice line.
  const SECRET = 'QZXJWVQZYXJW'
  /** Runner masking (whole secrets, line by line), then: does any part of 3+ characters of the secret remain? */
  function leaks(text: string, secret = SECRET): string | null {
    const shown = text
      .split('\n')
      .map((l) => l.split(secret).join('***'))
      .join('\n')
    for (let n = 3; n <= secret.length; n++) {
      for (let i = 0; i + n <= secret.length; i++) if (shown.includes(secret.slice(i, i + n))) return secret.slice(i, i + n)
    }
    return null
  }

  it('the log cuts (end of the head, start of the tail) never split a secret, wherever they fall', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 7 }), async (before, between, chunk) => {
        // max 40: head 20 bytes, ring 20 bytes. The secret straddles the head's end, and another the ring's start.
        const text = `${'a'.repeat(before)}${SECRET}${'b'.repeat(between)}${SECRET}${'c'.repeat(before % 7)}`
        const dir = new SpoolDir(undefined, [SECRET, 'unrelated-other-secret'])
        const spool = dir.spool(40)
        const bytes = Buffer.from(text)
        for (let i = 0; i < bytes.length; i += chunk) void spool.write(bytes.subarray(i, i + chunk))
        const log = (await readAll(spool)).toString()
        assert.equal(leaks(log), null, log)
        // What is left out is counted.
        const m = /… (\d+) bytes of output left out/.exec(log)
        if (m) assert.equal(Number(m[1]) + Buffer.byteLength(log.replace(/\n\[ssh-fanout\][^\n]*\n/, '')), bytes.length, log)
        await spool.dispose()
        dir.remove()
      }),
      { numRuns: 300 },
    )
  })

  it('masks secrets before cutting a long line to its last 1000 characters', async () => {
    for (let shift = 1; shift < SECRET.length; shift++) {
      const dir = new SpoolDir(undefined, [SECRET])
      const spool = dir.spool(1 << 20)
      // The line keeps its last 1000 characters: the cut falls `shift` characters into the secret.
      await spool.write(Buffer.from(`${'a'.repeat(50)}${SECRET}${'b'.repeat(1000 - (SECRET.length - shift))}\nlast\n`))
      const tail = spool.tailLines()
      assert.equal(leaks(tail.join('\n')), null, tail[0])
      assert.equal(tail.at(-1), 'last')
      await spool.dispose()
      dir.remove()
    }
  })

  it('masks secrets in the last lines', async () => {
    const dir = new SpoolDir(undefined, [SECRET])
    const spool = dir.spool(1 << 20)
    await spool.write(Buffer.from(`password: ${SECRET}\n`))
    assert.deepEqual(spool.tailLines(), ['password: ***'])
    await spool.dispose()
    dir.remove()
  })
})
