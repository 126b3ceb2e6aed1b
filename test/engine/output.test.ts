import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SpoolDir } from '../../src/engine/output.js'

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
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 20 }), fc.integer({ min: 2, max: 500 }), async (chunks, max) => {
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
      }),
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
