/**
 * Text a host (or anyone on the network path) controls reaches our own lines: error messages,
 * group titles, annotations. The runner acts on `##[command]` anywhere in a line and on
 * `::command::` at its start; none of it may act, or every later group, annotation and the
 * step's failure would be silenced (`##[stop-commands]x`).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { inert } from '../../src/action/log/remote-text.js'
import { commandsOf, parseCommand, parseLog, results, runAction, type ActionRun } from '../helpers/action.js'
import { disconnectBeforeKex, startHostileSsh2, type Listening } from '../helpers/hostile.js'

const EVIL = '##[stop-commands]x'

describe('remote text never acts as a workflow command (built action)', () => {
  const servers: Listening[] = []
  let run: ActionRun
  before(async () => {
    // Each server is listed as soon as it listens, so that `after` closes it whatever fails next.
    const started = <T extends Listening>(s: T): T => (servers.push(s), s)
    started(await disconnectBeforeKex(`${EVIL} ::error::early`))
    const auth = started(await startHostileSsh2({ authMethods: ['password', EVIL] }))
    const channel = started(await startHostileSsh2({ channelOpenFailure: `${EVIL} ##[error]channel` }))
    const during = started(await startHostileSsh2({ disconnectDuringCommand: `${EVIL} ##[warning]during` }))
    run = await runAction({
      hosts: servers.map((s) => `${s.host}:${s.port}`).join('\n'),
      'known-hosts': [auth, channel, during].map((s) => s.knownHostsLine).join('\n'),
      username: 'u',
      password: 'pw',
      command: 'true',
      'fail-fast': 'false',
      retries: '0',
    })
  })
  after(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })

  it("puts the hosts' text into the errors (the test reaches the lines it means to)", () => {
    const res = results(run)
    assert.deepEqual(
      res.map((r) => r.status),
      ['error', 'error', 'error', 'error'],
      run.stdout,
    )
    for (const r of res) assert.ok(String(r.error).includes('stop-commands'), JSON.stringify(r))
  })

  it('runs no command from that text: every group closes, one annotation per host, and the step fails', () => {
    // Only our own stop-commands blocks, around host output, each with a random token.
    for (const c of commandsOf(run, 'stop-commands')) assert.match(c.message, /^[0-9a-f]{32}$/, run.stdout)
    assert.equal(commandsOf(run, 'warning').length, 0, run.stdout)
    assert.equal(run.groups.length, 4, run.stdout)
    assert.equal(commandsOf(run, 'endgroup').length, 4, run.stdout)
    const errors = commandsOf(run, 'error')
    assert.equal(errors.length, 5, run.stdout)
    assert.match(errors[4].message, /4 of 4 hosts failed/)
    assert.equal(run.code, 1)
  })

  it('shows the text in a form that reads the same but does not act', () => {
    for (const g of run.groups) assert.ok(!g.title.includes('##['), g.title)
    for (const e of commandsOf(run, 'error')) {
      assert.ok(!e.message.includes('##['), e.message)
      assert.ok(!(e.properties.title ?? '').includes('##['), e.properties.title)
    }
    assert.ok(!/^\s*::error::early/m.test(run.stdout), run.stdout)
    assert.match(run.stdout, /## \[stop-commands\]x/)
  })
})

describe('the log reader reads both command forms, as the runner does', () => {
  it('finds ##[cmd] anywhere in a line, and ::cmd:: at its start', () => {
    assert.equal(parseCommand('handshake: ##[stop-commands]x')?.command, 'stop-commands')
    assert.equal(parseCommand('handshake: ##[stop-commands]x')?.message, 'x')
    assert.equal(parseCommand('  ::error title=a%3Ab::msg')?.properties.title, 'a:b')
    assert.equal(parseCommand('a ::error::msg'), null)
    assert.equal(parseCommand('##[not-a-command]x'), null)
    // An unregistered ::name:: falls through to the legacy form, as in the runner.
    assert.equal(parseCommand('::nothing::##[group]t')?.command, 'group')
  })

  it('honours a legacy stop-commands: nothing after it acts until its token', () => {
    const log = parseLog(['x ##[stop-commands]tok', '::error::hidden', '##[tok]', '::error::shown'].join('\n'))
    assert.deepEqual(
      log.commands.map((c) => c.command),
      ['stop-commands', 'error'],
    )
    assert.equal(log.commands[1].message, 'shown')
  })
})

describe('inert', () => {
  it('leaves no workflow command in any text, on one line', () => {
    const piece = fc.constantFrom('#', '##', '[', ']', ':', '::', ' ', '\n', '\r', 'stop-commands', 'error', 'group', 'x', '%0A')
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }).map((p) => p.join('')),
        (text) => {
          const line = inert(text)
          assert.ok(!/[\r\n]/.test(line))
          assert.equal(parseCommand(line, 'x'), null, JSON.stringify(line))
        },
      ),
      { numRuns: 2000 },
    )
  })
})
