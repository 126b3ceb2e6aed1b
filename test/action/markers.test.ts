/** Host output on its way to the job log: no `##[` marker survives, wherever the chunks split. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { inert, MarkerBreaker } from '../../src/action/log/remote-text.js'

/** Feeds `text` in pieces cut at `cuts` and returns what comes out. */
function through(text: string, cuts: number[]): string {
  const breaker = new MarkerBreaker()
  let out = ''
  let at = 0
  for (const cut of [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)) {
    out += breaker.push(text.slice(at, cut))
    at = cut
  }
  return out + breaker.push(text.slice(at)) + breaker.end()
}

describe('MarkerBreaker', () => {
  it('breaks every ##[ the log viewer would draw, at a line start or not', () => {
    assert.equal(
      through('##[group]forged\n##[endgroup]\n  ##[error]x\nmid ##[warning]y\n###[z\n', []),
      '## [group]forged\n## [endgroup]\n  ## [error]x\nmid ## [warning]y\n### [z\n',
    )
  })

  it('breaks a marker split across chunks, and holds back nothing at the end', () => {
    assert.equal(through('a#', []), 'a#')
    assert.equal(through('##[group]x', [1]), '## [group]x')
    assert.equal(through('##[group]x', [2]), '## [group]x')
    assert.equal(through('x##', [3]), 'x##')
  })

  it('whatever the text and however it is cut: the same as one piece, the rest unchanged, and no ##[ left (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('#', '[', ']', 'a', '\n', ' ') }), fc.array(fc.nat()), (text, cuts) => {
        const out = through(text, cuts)
        assert.equal(out, text.replace(/##\[/g, '## ['))
        assert.ok(!out.includes('##['))
        assert.equal(out.replace(/## \[/g, '##['), text.replace(/## \[/g, '##['))
      }),
      { numRuns: 500 },
    )
  })

  it('is the rule inert() applies to our own lines', () => {
    assert.equal(inert('host said ##[group]x'), 'host said ## [group]x')
  })
})
