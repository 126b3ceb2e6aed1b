/**
 * The job summary as GitHub shows it: Markdown (CommonMark; GitHub uses cmark-gfm) with our
 * HTML in it, and secrets masked by the runner in their raw and XML-escaped forms.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { HtmlRenderer, Parser } from 'commonmark'
import fc from 'fast-check'
import type { HostResult, HostRollback, HostStatus } from '../../src/engine/model.js'
import type { FanoutResult } from '../../src/engine/fanout/fanout.js'
import { buildSummary, escapeHtml } from '../../src/action/results/summary.js'
import { fanoutResult, hostResult } from '../helpers/results.js'

let savedRepo: string | undefined
before(() => {
  savedRepo = process.env.GITHUB_REPOSITORY
  delete process.env.GITHUB_REPOSITORY
})
after(() => {
  if (savedRepo !== undefined) process.env.GITHUB_REPOSITORY = savedRepo
})

/** Plain results: exit code by status, no error text, no output unless given. */
function result(host: string, status: HostStatus, over: Partial<HostResult> = {}): HostResult {
  return hostResult(host, status, { error: null, errorKind: null, ...over })
}

function summarize(results: HostResult[], opts: { secrets?: string[] } = {}, over: Partial<FanoutResult> = {}): string {
  const run = fanoutResult(results, over)
  return buildSummary(run, { failed: true, message: 'some hosts failed' }, { tailLines: 20, hostKeysShown: false, ...opts })
}

/** Renders as CommonMark; returns the HTML and the types of the document's top-level blocks. */
function render(markdown: string): { html: string; blocks: string[] } {
  const doc = new Parser().parse(markdown)
  const blocks: string[] = []
  for (let n = doc.firstChild; n; n = n.next) blocks.push(n.type)
  return { html: new HtmlRenderer().render(doc), blocks }
}

const HOSTILE = [
  'ok',
  '',
  '# Owned',
  '[click](https://evil.example/)',
  '![x](https://evil.example/x.png)',
  '<https://evil.example/auto>',
  '   ',
  '## more',
  'after',
]

function assertOneHtmlBlock(markdown: string, rows: number): void {
  const { html, blocks } = render(markdown)
  assert.deepEqual(blocks, ['html_block'], markdown)
  assert.ok(!/<a\s|<img|<h[13456]/i.test(html), html)
  assert.equal(html.match(/<h2>/g)?.length, 1, html)
  assert.equal(html.match(/<tr>/g)?.length, rows + 1, html)
  assert.equal(html.match(/<\/table>/g)?.length, 1, html)
}

describe('the summary under CommonMark', () => {
  it('blank lines in output tails and errors do not end the HTML block: no links, images or headings from hosts', () => {
    const md = summarize([
      result('web1', 'failed', { tail: HOSTILE }),
      result('web2', 'error', { error: `refused\n\n# Heading\n[l](http://e.example/)\r\n\r\n![i](http://e.example/i.png)` }),
      result('web3', 'success', { tail: ['\n', 'x'] }),
    ])
    assertOneHtmlBlock(md, 3)
    assert.ok(md.includes('<pre>ok&#10;&#10;# Owned&#10;'), md)
  })

  it('holds for any output and error text', () => {
    const piece = fc.constantFrom(
      '',
      ' ',
      '\n',
      '\r\n',
      '\r',
      '\t',
      '#',
      '# h',
      '[',
      ']',
      '(',
      ')',
      '!',
      '<',
      '>',
      '`',
      '```',
      '*',
      '-',
      '=',
      '|',
      'http://e.example/',
      'x',
      '&',
      ';',
      '<img src=x>',
      '</pre>',
      '</table>',
    )
    const text = fc.array(piece, { maxLength: 25 }).map((p) => p.join(''))
    fc.assert(
      fc.property(fc.array(text, { maxLength: 8 }), text, (tail, error) => {
        assertOneHtmlBlock(summarize([result('a', 'failed', { tail }), result('b', 'error', { error })]), 2)
      }),
      { numRuns: 500 },
    )
  })

  it('holds for any rollback error and halt reason, with the rollback column, the check and the preflight line', () => {
    const text = fc.array(
      fc.constantFrom('', '\n', '\r\n', '# h', '[l](http://e.example/)', '![i](http://e.example/i.png)', '<img src=x>', '</td>', '&', 'x'),
      {
        maxLength: 12,
      },
    )
    const check = { attempts: 12, planned: 12, exitCode: 7, durationMs: 1, soak: 'failed' as const, log: [] }
    fc.assert(
      fc.property(text, text, (error, reason) => {
        const rollback: HostRollback = { status: 'error', exitCode: null, durationMs: 1, tail: [], error: error.join('') }
        const md = summarize(
          [result('a', 'unhealthy', { rollback, check, tail: error }), result('b', 'success', { check: { ...check, soak: 'ok', exitCode: 0 } })],
          {},
          {
            preflight: { hosts: 2, passed: 2, failed: 0, durationMs: 5, halted: false },
            rollback: { reason: reason.join(''), hosts: 1, succeeded: 0, failed: 1, durationMs: 5 },
          },
        )
        assertOneHtmlBlock(md, 2)
      }),
      { numRuns: 300 },
    )
  })
})

/** .NET SecurityElement.Escape, the runner's XML escaping of secrets (ValueEncoders.XmlDataEscape). */
function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/** What the runner does to the summary file: every raw and XML-escaped occurrence of a secret becomes ***. */
function runnerMask(text: string, secret: string): string {
  return text.split(secret).join('***').split(xmlEscape(secret)).join('***')
}

function decodeEntities(html: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
  return html.replace(/&(#\d+|[a-z]+);/g, (m, e: string) => (e.startsWith('#') ? String.fromCharCode(Number(e.slice(1))) : (named[e] ?? m)))
}

describe('secrets in the summary', () => {
  it("escapeHtml writes ' as the runner's XML escaping does, so a secret with ' is masked", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), xmlEscape(`<a href="x">'&'</a>`))
    for (const secret of [`it's-s3cret`, `p"a'ss<w>&rd`]) {
      const md = summarize([result('web1', 'failed', { tail: [`password is ${secret} here`], error: `bad ${secret}` })])
      const shown = decodeEntities(runnerMask(md, secret))
      assert.ok(!shown.includes(secret), shown)
      assert.ok(shown.includes('password is *** here'), shown)
    }
  })

  it('masks secrets in the rollback cell and the halt reason', () => {
    const secret = `it's-s3cret`
    const rollback: HostRollback = { status: 'error', exitCode: null, durationMs: 1, tail: [], error: `lost: ${secret}` }
    const md = summarize(
      [result('web1', 'failed', { rollback })],
      { secrets: [secret] },
      { rollback: { reason: `halted by ${secret}`, hosts: 1, succeeded: 0, failed: 1, durationMs: 1 } },
    )
    assert.ok(!decodeEntities(md).includes(secret), md)
    assert.ok(md.includes('error: lost: ***') && md.includes('the rollout halted: halted by ***'), md)
  })

  it('masks secrets before cutting a cell, so no part of one survives the 2000-character cut', () => {
    const secret = 'SECRETVALUE-0123456789'
    for (let shift = 1; shift < secret.length; shift++) {
      // The cell keeps the last 2000 characters: put the cut inside the secret.
      const line = `${'a'.repeat(100)}${secret}${'b'.repeat(2000 - (secret.length - shift))}`
      const md = summarize([result('web1', 'failed', { tail: [line] })], { secrets: [secret] })
      const shown = decodeEntities(runnerMask(md, secret))
      for (let n = 4; n <= secret.length; n++) {
        for (let i = 0; i + n <= secret.length; i++) assert.ok(!shown.includes(secret.slice(i, i + n)), `shift ${shift}: "${secret.slice(i, i + n)}" shows`)
      }
    }
  })
})
