/** log-dir's file names (valid on every runner OS, unique) and secrets masked across chunk boundaries. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { logFileName } from '../../src/action/results/log-dir.js'
import { maskSecrets, StreamMasker } from '../../src/engine/output/secrets.js'

describe('logFileName', () => {
  it('replaces characters that are unsafe in file names, and avoids device names', () => {
    const taken = new Set<string>()
    assert.equal(logFileName('[2001:db8::1]:2222', taken), '_2001_db8__1__2222.log')
    assert.equal(logFileName('web-01.example.com', taken), 'web-01.example.com.log')
    assert.equal(logFileName('CON', taken), 'CON_.log')
    assert.equal(logFileName('..', taken), '__.log')
    assert.equal(logFileName('results.json', new Set()), 'results.json.log')
  })
  it('never names a host log results.json, whatever the label and the names taken before it', () => {
    const label = fc.oneof(fc.constantFrom('results.json', 'RESULTS.JSON', 'Results.Json', 'results', 'results.json.log', 'results.json:22', ''), fc.string())
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 20 }), (labels) => {
        const taken = new Set<string>()
        for (const l of labels) assert.notEqual(logFileName(l, taken).toLowerCase(), 'results.json', JSON.stringify(labels))
      }),
    )
  })
  it('keeps names unique, ignoring case (Windows and macOS file systems)', () => {
    const taken = new Set<string>()
    assert.equal(logFileName('a:1', taken), 'a_1.log')
    assert.equal(logFileName('a_1', taken), 'a_1-2.log')
    assert.equal(logFileName('A:1', taken), 'A_1-3.log')
  })
})

describe('StreamMasker', () => {
  it('masks a secret however the stream is cut, as masking the whole text would', () => {
    const secrets = ['hunter2', 'abcabd', 'x']
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('hunter2', 'hun', 'ter2', 'abcab', 'abd', 'x', 'y', 'a', '\n'), { maxLength: 30 }),
        fc.array(fc.nat(40)),
        (parts, cuts) => {
          const text = parts.join('')
          const bytes = Buffer.from(text)
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
          const masker = new StreamMasker(secrets)
          const out: Buffer[] = []
          let last = 0
          for (const p of [...points, bytes.length]) {
            out.push(masker.push(bytes.subarray(last, p)))
            last = p
          }
          out.push(masker.end())
          assert.equal(Buffer.concat(out).toString(), maskSecrets(text, secrets))
        },
      ),
    )
  })
})
