import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_HOSTS } from '../../src/engine/targets/hosts.js'
import { TAIL_LINES, type HostCheck, type HostResult, type HostRollback } from '../../src/engine/model.js'
import { OUTPUTS_BUDGET, resultEntry, resultsJson } from '../../src/action/results/outputs.js'
import { groupTitle } from '../../src/action/log/report.js'
import { sanitizeLog } from '../../src/action/log/remote-text.js'
import type { Verdict } from '../../src/action/results/verdict.js'
import { buildSummary, escapeHtml, SUMMARY_BUDGET, sortForSummary, stripAnsi } from '../../src/action/results/summary.js'
import { fanoutResult, hostResult, target } from '../helpers/results.js'

const MiB = 1024 * 1024

// The summary adds a context line when GITHUB_REPOSITORY is set (as on a runner); keep it out.
let savedRepo: string | undefined
before(() => {
  savedRepo = process.env.GITHUB_REPOSITORY
  delete process.env.GITHUB_REPOSITORY
})
after(() => {
  if (savedRepo !== undefined) process.env.GITHUB_REPOSITORY = savedRepo
})

// ---- builders ---------------------------------------------------------------

const result = hostResult

/** `n` lines of `width` characters, distinct per host and line. */
function longLines(host: number, n = 20, width = 200): string[] {
  return Array.from({ length: n }, (_, i) => `h${host} line ${i} `.padEnd(width, 'x'))
}

/** A big fleet: every 10th host failed, every host printed `lines` long lines. */
function fleet(size: number, lines = 20, width = 200): HostResult[] {
  return Array.from({ length: size }, (_, i) => {
    const name = `host-${String(i).padStart(5, '0')}.example.com`
    return result(name, i % 10 === 3 ? 'failed' : 'success', { tail: longLines(i, lines, width) })
  })
}

const OK: Verdict = { failed: false, message: 'ok' }
const summarize = (results: HostResult[], v: Verdict = OK, tailLines = TAIL_LINES, hostKeysShown = false) =>
  buildSummary(fanoutResult(results), v, { tailLines, hostKeysShown })

/** Rows of the results table (not the header). */
const rowCount = (html: string) => html.split('<tr><td>').length - 1

// ---- sortForSummary ---------------------------------------------------------

describe('sortForSummary', () => {
  it('puts failures first (unhealthy right after failed), then skipped, then successes, keeping host order within a status', () => {
    const input = [
      result('s1', 'success'),
      result('k1', 'skipped'),
      result('f1', 'failed'),
      result('e1', 'error'),
      result('s2', 'success'),
      result('t1', 'timeout'),
      result('c1', 'cancelled'),
      result('u1', 'unhealthy'),
      result('f2', 'failed'),
      result('k2', 'skipped'),
      result('e2', 'error'),
    ]
    const before = input.map((r) => r.target.label)
    assert.deepEqual(
      sortForSummary(input).map((r) => r.target.label),
      ['e1', 'e2', 't1', 'f1', 'f2', 'u1', 'c1', 'k1', 'k2', 's1', 's2'],
    )
    assert.deepEqual(
      input.map((r) => r.target.label),
      before,
      'the input is not reordered',
    )
  })
})

// ---- buildSummary -----------------------------------------------------------

describe('buildSummary', () => {
  it('escapes HTML in output, errors and the verdict', () => {
    const html = summarize(
      [result('web1', 'failed', { tail: ['<script>alert("x")</script> & \'more\''] }), result('web2', 'error', { error: 'banner said <b>go away</b>' })],
      { failed: true, message: 'web1 <failed>' },
    )
    assert.ok(html.includes('<pre>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;more&apos;</pre>'), html)
    assert.ok(html.includes('<strong>banner said &lt;b&gt;go away&lt;/b&gt;</strong>'), html)
    assert.ok(html.includes('<p><strong>web1 &lt;failed&gt;</strong></p>'), html)
    assert.ok(!html.includes('<script>') && !html.includes('<b>'), html)
  })

  it('strips ANSI colour codes and control characters from output', () => {
    const html = summarize([result('web1', 'success', { tail: ['\u001b[1;31mred\u001b[0m and \u001b]0;title\u0007plain\u0000'] })])
    assert.ok(html.includes('<pre>red and plain</pre>'), html)
    assert.ok(!html.includes('\u001b'))
  })

  it('shows the exit code or the signal, and one exact row per host', () => {
    const html = summarize([
      result('ok', 'success', { tail: ['done'], durationMs: 500 }),
      result('bad', 'failed', { exitCode: 3, tail: ['line1', 'line2'] }),
      result(target('killed', 2222), 'failed', { signal: 'SIGKILL', exitCode: null, durationMs: 65_000 }),
      result('down', 'error'),
      result('later', 'skipped'),
    ])
    assert.ok(html.includes('<tr><td><code>bad</code></td><td>failed</td><td>3</td><td>1.2 s</td><td><pre>line1&#10;line2</pre></td></tr>\n'), html)
    assert.ok(html.includes('<tr><td><code>killed:2222</code></td><td>failed</td><td>SIGKILL</td><td>1 min 5 s</td><td></td></tr>\n'), html)
    assert.ok(html.includes('<tr><td><code>down</code></td><td>error</td><td></td><td>1.2 s</td><td><strong>connection refused</strong></td></tr>\n'), html)
    assert.ok(
      html.includes(
        '<tr><td><code>later</code></td><td>skipped</td><td></td><td></td><td><strong>not started: max-failures was exceeded and fail-fast is on</strong></td></tr>\n',
      ),
      html,
    )
    assert.ok(html.includes('<tr><td><code>ok</code></td><td>success</td><td>0</td><td>500 ms</td><td><pre>done</pre></td></tr>\n'), html)
    assert.equal(rowCount(html), 5)
    // Sorted: error, failed, failed, skipped, success.
    const order = ['down', 'bad', 'killed:2222', 'later', 'ok'].map((l) => html.indexOf(`<code>${l}</code>`))
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    )
  })

  it('heading icon and counts follow the verdict', () => {
    const mixed = [result('a', 'error'), result('b', 'failed'), result('c', 'success'), result('d', 'success')]
    const failed = buildSummary(fanoutResult(mixed), { failed: true, message: 'm' }, { tailLines: 20, hostKeysShown: false })
    assert.ok(failed.startsWith('<h2>❌ ssh-fanout</h2>\n<p><strong>m</strong></p>\n<p>1 error · 1 failed · 2 success</p>\n'), failed)
    const warned = buildSummary(fanoutResult(mixed), { failed: false, message: 'm' }, { tailLines: 20, hostKeysShown: false })
    assert.ok(warned.startsWith('<h2>⚠️ ssh-fanout</h2>'), warned)
    const ok = summarize([result('a', 'success')])
    assert.ok(ok.startsWith('<h2>✅ ssh-fanout</h2>'), ok)
    assert.ok(!ok.includes('not shown') && !ok.includes('keeps only'), ok)
  })

  it('notes trimmed results output and unchecked host keys', () => {
    const html = summarize([result('a', 'success')], OK, 5, true)
    assert.ok(html.includes('keeps only the last 5 lines per host'), html)
    assert.ok(html.includes('strict-host-key-checking is off'), html)
  })

  it('a 10,000-host fleet with 20 long lines each stays under 1 MiB and says what was left out', () => {
    const results = fleet(10_000)
    const html = summarize(results, { failed: true, message: '1000 of 10000 hosts failed' })
    const bytes = Buffer.byteLength(html)
    assert.ok(bytes < MiB, `summary is ${bytes} bytes`)
    assert.ok(bytes <= SUMMARY_BUDGET + 2048, `summary is ${bytes} bytes, budget ${SUMMARY_BUDGET}`)
    const shown = rowCount(html)
    const left = /<p>(\d+) more hosts are not shown/.exec(html)
    assert.ok(left, 'says hosts were left out')
    assert.equal(shown + Number(left[1]), 10_000)
    assert.match(html, /Rows show at most the last \d+ output lines/)
    // Failures come first, so the rows that fit are the failed hosts.
    assert.ok(html.indexOf('<code>host-00003.example.com</code>') > 0)
    assert.ok(html.indexOf('<code>host-00003.example.com</code>') < html.indexOf('<td>success</td>') || !html.includes('<td>success</td>'))
  })

  it('rows left out point at every host: the results output, or the results file when results left hosts out too', () => {
    const run = fanoutResult(fleet(10_000))
    const notShown = (html: string) => /<p>\d+ more hosts are not shown[^<]*(?:<code>[^<]*<\/code>[^<]*)*<\/p>/.exec(html)?.[0] ?? ''
    const complete = notShown(buildSummary(run, OK, { tailLines: TAIL_LINES, hostKeysShown: false }))
    assert.match(complete, /the <code>results<\/code> output lists every host/)
    const trimmed = notShown(buildSummary(run, OK, { tailLines: 1, hostKeysShown: false, hostsLeftOut: 4000, resultsFile: '/tmp/r.json' }))
    assert.match(trimmed, /the file named by the <code>results-file<\/code> output \(<code>\/tmp\/r\.json<\/code>\) lists every host/)
    assert.doesNotMatch(trimmed, /<code>results<\/code> output lists every host/)
  })

  it('a run of no hosts (an empty shard) has no table', () => {
    const html = buildSummary(
      fanoutResult([]),
      { failed: false, message: 'Nothing to run: shard 6/8 has no hosts (the list has 5)' },
      { tailLines: 20, hostKeysShown: false },
    )
    assert.doesNotMatch(html, /<table>/)
    assert.match(html, /Nothing to run: shard 6\/8 has no hosts/)
  })

  it('cuts each cell to its last 2000 characters', () => {
    const html = summarize(fleet(1))
    const cell = /<pre>([^<]*)<\/pre>/.exec(html)?.[1] ?? ''
    assert.equal(cell, `…${longLines(0).join('\n').slice(-2000)}`.replace(/\n/g, '&#10;'))
  })

  it('a fleet that fits with fewer lines is cut by lines, not by hosts', () => {
    // 600 rows of ~2 KB do not fit; with 10 lines for failures and 1 for successes they do.
    const results = fleet(600)
    const html = summarize(results)
    assert.ok(Buffer.byteLength(html) <= SUMMARY_BUDGET)
    assert.equal(rowCount(html), 600)
    assert.ok(!html.includes('not shown'), 'every host is shown')
    assert.ok(html.includes('<p>Rows show at most the last 10 output lines, to fit the summary.</p>'), 'says lines were cut')
    assert.ok(html.includes(`<td><pre>${longLines(0).at(-1)}</pre></td>`), 'a success row keeps one line')
  })

  it('stays under 1 MiB when output escapes to many bytes (quotes, multi-byte text)', () => {
    const results = Array.from({ length: 2_000 }, (_, i) =>
      result(`q${i}`, 'failed', { tail: Array.from({ length: 20 }, (_, j) => (j % 2 ? '"'.repeat(1000) : '€'.repeat(1000))) }),
    )
    const bytes = Buffer.byteLength(summarize(results, { failed: true, message: 'x' }))
    assert.ok(bytes < MiB, `summary is ${bytes} bytes`)
  })

  it('escapeHtml and stripAnsi', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;')
    assert.equal(stripAnsi('\u001b[32mok\u001b[0m\ttab\u001b[2Kz\u001b]8;;http://x\u001b\\link\u001b]0;t\u0007\r'), 'ok\ttabzlink')
  })

  it('stripAnsi removes `tput sgr0` (ESC ( B) and cursor save/restore (ESC 7, ESC 8)', () => {
    assert.equal(stripAnsi('\u001b[1mbold\u001b(B\u001b[m done'), 'bold done')
    assert.equal(stripAnsi('\u001b7\u001b[24;0f50%\u001b8next'), '50%next')
  })
})

// ---- results output ---------------------------------------------------------

describe('resultsJson', () => {
  it('keeps 20 lines when they fit', () => {
    const results = [result('a', 'success', { tail: ['1', '2'] }), result('b', 'failed', { tail: [] })]
    const { json, tailLines } = resultsJson(results)
    assert.equal(tailLines, 20)
    assert.deepEqual(
      JSON.parse(json),
      results.map((r) => resultEntry(r, 20)),
    )
  })

  it('trims output tails of a big fleet to stay under the output limit, keeping every host in order', () => {
    const results = fleet(600)
    const { json, tailLines } = resultsJson(results)
    assert.ok(json.length <= OUTPUTS_BUDGET, `${json.length} UTF-16 code units`)
    assert.equal(tailLines, 2) // UTF-16 code units with 20 lines: 2.6 M, 10: 1.3 M, 5: 0.75 M, 2: 0.37 M
    const entries = JSON.parse(json) as Array<{ host: string; output: string }>
    assert.equal(entries.length, 600)
    assert.deepEqual(
      entries.map((e) => e.host),
      results.map((r) => r.target.host),
    )
    assert.equal(entries[7].output, longLines(7).slice(-2).join('\n'))
  })

  it('the largest fleet allowed (MAX_HOSTS) with 20 lines of 200 chars and long errors stays under OUTPUTS_BUDGET', () => {
    const results = fleet(MAX_HOSTS).map((r, i) =>
      i % 2 === 0
        ? {
            ...r,
            status: 'error' as const,
            errorKind: 'refused' as const,
            error: `refused: nothing accepts connections on that port (ECONNREFUSED) ${'x'.repeat(100)}`,
          }
        : r,
    )
    const { json, tailLines, errorsShortened, droppedFields } = resultsJson(results)
    assert.equal(tailLines, 0)
    assert.equal(errorsShortened, true)
    const entries = JSON.parse(json) as Array<{ host: string; error?: string | null }>
    assert.equal(entries.length, MAX_HOSTS)
    assert.deepEqual(
      entries.map((e) => e.host),
      results.map((r) => r.target.host),
    )
    // Errors are cut to their class, or dropped (after output) when even that does not fit.
    if ('error' in entries[0]) assert.ok(entries[0].error!.startsWith('refused'))
    else assert.deepEqual(droppedFields.slice(0, 2), ['output', 'error'])
    const html = summarize(results, OK, tailLines)
    assert.ok(html.includes(`keeps only the last ${tailLines} lines per host`))
    assert.ok(json.length <= OUTPUTS_BUDGET, `results JSON is ${json.length} UTF-16 code units`)
  })

  it('the summary mentions the trimming reported by resultsJson', () => {
    const results = fleet(600)
    const { tailLines } = resultsJson(results)
    assert.equal(tailLines, 2)
    assert.ok(
      summarize(results, OK, tailLines).includes(
        `<code>output</code> field of the <code>results</code> output keeps only the last ${tailLines} lines per host`,
      ),
    )
  })
})

// ---- job log ----------------------------------------------------------------

describe('groupTitle', () => {
  it('success shows exit 0', () => {
    assert.equal(groupTitle(result('web1', 'success')), '✅ success web1: exit 0 (1.2 s)')
  })

  it('failed shows the exit code', () => {
    assert.equal(groupTitle(result(target('web2', 2222), 'failed', { exitCode: 3, durationMs: 250 })), '❌ failed web2:2222: exit 3 (250 ms)')
  })

  it('killed by a signal', () => {
    assert.equal(
      groupTitle(result('web3', 'failed', { signal: 'SIGKILL', exitCode: null, durationMs: 65_000 })),
      '❌ failed web3: killed by SIGKILL (1 min 5 s)',
    )
  })

  it('error message on one line', () => {
    assert.equal(
      groupTitle(result('web4', 'error', { error: 'connection lost\n  remote said:\r\n bye\n', durationMs: 2000 })),
      '⛔ error web4: connection lost remote said: bye (2 s)',
    )
    assert.equal(groupTitle(result('web5', 'timeout', { durationMs: 10_000 })), '⏱️ timeout web5: command timed out after 10 s (10 s)')
    assert.equal(groupTitle(result('web6', 'skipped', { error: 'not started' })), '⏭️ skipped web6: not started')
    assert.equal(groupTitle(result('web7', 'cancelled', { error: null })), '🚫 cancelled web7: cancelled (1.2 s)')
  })

  it('shows attempts only when more than one', () => {
    assert.equal(groupTitle(result('web8', 'error', { attempts: 3, durationMs: 4500 })), '⛔ error web8: connection refused (4.5 s, 3 attempts)')
    assert.equal(groupTitle(result('web8', 'error', { attempts: 1, durationMs: 4500 })), '⛔ error web8: connection refused (4.5 s)')
  })
})

describe('sanitizeLog', () => {
  it('replaces NUL and other control characters with U+FFFD', () => {
    assert.equal(sanitizeLog('a\u0000b\u0007c\u0008d\u000be\u000cf\u001ag\u001ch\u007fi'), 'a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh\ufffdi')
  })

  it('keeps tab, newline, CR and ESC (colours)', () => {
    const text = 'col1\tcol2\r\n\u001b[31mred\u001b[0m\n'
    assert.equal(sanitizeLog(text), text)
  })

  it('over every C0 character and DEL, only \\t \\n \\r and ESC survive', () => {
    const kept: number[] = []
    for (const code of [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f]) {
      const ch = String.fromCharCode(code)
      const out = sanitizeLog(ch)
      if (out === ch) kept.push(code)
      else assert.equal(out, '\ufffd', `U+${code.toString(16)}`)
    }
    assert.deepEqual(kept, [0x09, 0x0a, 0x0d, 0x1b])
  })

  it('leaves printable and non-ASCII text alone', () => {
    assert.equal(sanitizeLog('héllo € ✅ ::warning::x'), 'héllo € ✅ ::warning::x')
  })
})

describe('buildSummary: gathered rows, batches and shards', () => {
  const ok = (name: string, over: Partial<HostResult> = {}) => result(name, 'success', { tail: ['deployed 42'], ...over })
  const verdictOk: Verdict = { failed: false, message: 'ok' }

  it('folds hosts with the same status, exit code and output into one row with a compact host list; the odd one stands alone, failures first', () => {
    const hosts = Array.from({ length: 37 }, (_, i) => ok(`web${String(i + 1).padStart(2, '0')}.example.com`))
    hosts[20] = ok('web21.example.com', { tail: ['deployed 41'] })
    const failed = result('db1.example.com', 'failed', { exitCode: 3, tail: ['boom'] })
    const html = buildSummary(fanoutResult([...hosts, failed]), verdictOk, { tailLines: 20, hostKeysShown: false })
    const rows = html.split('\n').filter((l) => l.startsWith('<tr><td>'))
    assert.equal(rows.length, 3, html)
    assert.match(rows[0], /db1\.example\.com.*failed/)
    assert.match(rows[1], /<code>web\[01-20,22-37\]\.example\.com<\/code> \(36 hosts\)/)
    assert.match(rows[2], /<code>web21\.example\.com<\/code><\/td>.*deployed 41/)
  })

  it('keeps hosts apart when only the exit code, the signal or the error differs', () => {
    const html = buildSummary(
      fanoutResult([
        result('a1', 'failed', { exitCode: 1 }),
        result('a2', 'failed', { exitCode: 2 }),
        result('a3', 'failed', { exitCode: null, signal: 'SIGKILL' }),
        result('a4', 'error', { error: 'refused: x' }),
        result('a5', 'error', { error: 'refused: y' }),
      ]),
      verdictOk,
      { tailLines: 20, hostKeysShown: false },
    )
    assert.equal(html.split('\n').filter((l) => l.startsWith('<tr><td>')).length, 5)
  })

  it('labels rows with their batch and does not fold across batches', () => {
    const html = buildSummary(fanoutResult([ok('w1', { batch: 1 }), ok('w2', { batch: 2 }), ok('w3', { batch: 2 })]), verdictOk, {
      tailLines: 20,
      hostKeysShown: false,
    })
    assert.match(html, /<th>Batch<\/th><th>Host<\/th>/)
    const rows = html.split('\n').filter((l) => l.startsWith('<tr><td>'))
    assert.deepEqual(
      rows.map((r) => /^<tr><td>(\d+)<\/td><td><code>([^<]+)<\/code>/.exec(r)?.slice(1)),
      [
        ['1', 'w1'],
        ['2', 'w[2-3]'],
      ],
    )
  })

  it('says which shard ran', () => {
    const html = buildSummary(fanoutResult([ok('w1')]), verdictOk, { tailLines: 20, hostKeysShown: false, shard: 'shard 2/4: hosts 11-20 of 40' })
    assert.match(html, /shard 2\/4: hosts 11-20 of 40/)
  })
})

describe('buildSummary: safe rollouts', () => {
  const check = (over: Partial<HostCheck> = {}): HostCheck => ({ attempts: 3, planned: 12, exitCode: 0, durationMs: 10_000, soak: null, log: [], ...over })
  const rolled = (over: Partial<HostRollback> = {}): HostRollback => ({ status: 'success', exitCode: 0, durationMs: 800, tail: [], error: null, ...over })
  const rows = (html: string) => html.split('\n').filter((l) => l.startsWith('<tr><td>'))
  const build = (results: HostResult[], over: Parameters<typeof fanoutResult>[1] = {}, secrets: string[] = []) =>
    buildSummary(fanoutResult(results, over), { failed: true, message: 'm' }, { tailLines: 20, hostKeysShown: false, secrets })

  it('counts unhealthy right after failed', () => {
    const html = build([result('a', 'success'), result('b', 'unhealthy'), result('c', 'failed'), result('d', 'skipped')])
    assert.ok(html.includes('<p>1 failed · 1 unhealthy · 1 skipped · 1 success</p>\n'), html)
  })

  it('has a rollback column only when some host was rolled back: status and exit code, or the error, escaped and masked', () => {
    const without = build([result('a', 'failed'), result('b', 'success')])
    assert.doesNotMatch(without, /Rollback/)
    assert.ok(without.includes('<th>Duration</th><th>Error / last output</th>'), without)
    const html = build(
      [
        result('a', 'failed', { exitCode: 2, rollback: rolled() }),
        result('b', 'success', { rollback: rolled({ status: 'failed', exitCode: 3 }) }),
        result('c', 'unhealthy', { rollback: rolled({ status: 'error', exitCode: null, error: 'connection lost: <bye> from hunter2' }) }),
        result('d', 'timeout', { rollback: rolled({ status: 'timeout', exitCode: null, error: 'rollback-command timed out after 10 s' }) }),
        result('e', 'skipped'),
      ],
      {},
      ['hunter2'],
    )
    assert.ok(html.includes('<th>Duration</th><th>Rollback</th><th>Error / last output</th>'), html)
    const cell = (label: string) => new RegExp(`<code>${label}</code></td>(?:<td>[^<]*</td>){3}<td>([^<]*)</td>`).exec(html)?.[1]
    assert.equal(cell('a'), 'success')
    assert.equal(cell('b'), 'failed (exit 3)')
    assert.equal(cell('c'), 'error: connection lost: &lt;bye&gt; from ***')
    assert.equal(cell('d'), 'timeout: rollback-command timed out after 10 s')
    assert.ok(html.includes('<tr><td><code>e</code></td><td>skipped</td><td></td><td></td><td></td><td><strong>'), html)
  })

  it('says how many changed hosts were rolled back, in how long, and why the rollout halted', () => {
    const rollback = { reason: '2 of 9 hosts failed, more than max-failures (1) <b>', hosts: 4, succeeded: 3, failed: 1, durationMs: 12_300 }
    const html = build([result('a', 'failed', { rollback: rolled() })], { rollback })
    assert.ok(
      html.includes(
        '<p>rolled back 3 of 4 changed hosts (1 failed) in 12.3 s; the rollout halted: 2 of 9 hosts failed, more than max-failures (1) &lt;b&gt;</p>\n',
      ),
      html,
    )
    const none = build([result('a', 'error')], { rollback: { ...rollback, hosts: 0, succeeded: 0, failed: 0 } })
    assert.ok(none.includes('<p>no host had changed, so none was rolled back; the rollout halted: '), none)
    assert.doesNotMatch(build([result('a', 'failed')]), /rolled back|rollout halted/)
  })

  it('has a preflight line when preflight ran; halted, it says no host ran the command', () => {
    const ok = build([result('a', 'success')], { preflight: { hosts: 5, passed: 5, failed: 0, durationMs: 2100, halted: false } })
    assert.ok(ok.includes('<p>preflight: 5 of 5 hosts passed in 2.1 s</p>\n'), ok)
    const halted = build([result('a', 'error')], { preflight: { hosts: 5, passed: 3, failed: 2, durationMs: 850, halted: true } })
    assert.ok(halted.includes('<p>preflight: 3 of 5 hosts passed in 850 ms; 2 failed, more than max-failures allows, so no host ran the command</p>\n'), halted)
    assert.doesNotMatch(build([result('a', 'success')]), /preflight/)
  })

  it('shows the health check in the detail cell: passed on which attempt, failed how often with what exit code, the soak check', () => {
    const html = build([
      result('ok', 'success', { check: check(), tail: ['up'] }),
      result('soaked', 'success', { check: check({ attempts: 1, soak: 'ok' }) }),
      result('sick', 'unhealthy', { exitCode: 7, check: check({ attempts: 12, exitCode: 7 }), tail: ['curl: (7) refused'] }),
      result('sour', 'unhealthy', { exitCode: 1, check: check({ attempts: 2, exitCode: 1, soak: 'failed' }) }),
      result('lost', 'error', { error: 'connection lost', check: check({ attempts: 4, exitCode: 1 }) }),
      result('told', 'unhealthy', {
        exitCode: 7,
        error: 'check-command did not pass within check-timeout (1 min): 12/12 attempts, the last: exit 7',
        check: check({ attempts: 12, exitCode: 7 }),
      }),
    ])
    const detail = (label: string) =>
      rows(html)
        .find((r) => r.includes(`<code>${label}</code>`))
        ?.replace(/^.*<td>(.*)<\/td><\/tr>$/, '$1')
    assert.equal(detail('ok'), 'health check passed on attempt 3/12<pre>up</pre>')
    assert.equal(detail('soaked'), 'health check passed on attempt 1/12; soak check passed')
    assert.equal(detail('sick'), '<strong>health check failed 12 attempts (exit 7)</strong><pre>curl: (7) refused</pre>')
    assert.equal(detail('sour'), '<strong>health check passed on attempt 2/12; soak check failed (exit 1)</strong>')
    assert.equal(detail('lost'), '<strong>connection lost</strong><br>health check stopped after 4 attempts (exit 1)')
    assert.equal(
      detail('told'),
      '<strong>check-command did not pass within check-timeout (1 min): 12/12 attempts, the last: exit 7</strong>',
      'the error says it once',
    )
  })

  it('gathers hosts only when they agree on the rollback and the check outcome; attempts show as a range', () => {
    const html = build([
      result('w1', 'success', { check: check({ attempts: 1 }), rollback: rolled() }),
      result('w2', 'success', { check: check({ attempts: 3 }), rollback: rolled() }),
      result('w3', 'success', { check: check({ attempts: 2 }), rollback: rolled({ status: 'failed', exitCode: 3 }) }),
      result('w4', 'success', { check: check({ attempts: 2, soak: 'ok' }), rollback: rolled() }),
      result('w5', 'success', { check: check({ attempts: 1 }), rollback: null }),
      result('w6', 'success', { check: null, rollback: rolled() }),
      result('w7', 'success', { check: check({ attempts: 2 }), rollback: rolled({ status: 'failed', exitCode: 4 }) }),
      result('w8', 'success', { check: check({ attempts: 2 }), rollback: rolled({ status: 'error', exitCode: null, error: 'connection lost' }) }),
      result('w9', 'success', { check: check({ attempts: 2 }), rollback: rolled({ status: 'error', exitCode: null, error: 'connection refused' }) }),
    ])
    const names = rows(html).map((r) => /<code>([^<]+)<\/code>/.exec(r)?.[1])
    assert.deepEqual(names, ['w[1-2]', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9'])
    assert.match(rows(html)[0], /\(2 hosts\).*<td>health check passed on attempts 1–3 of 12<\/td><\/tr>$/)
  })
})
