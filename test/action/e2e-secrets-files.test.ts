/**
 * Secrets passed through `env` (as the README recommends) and the `mask` input, echoed by the
 * hosts, through the built action: registered with the runner (::add-mask::) before anything
 * else is printed, and masked in every file the action writes, which the runner does not
 * mask (log-dir host logs, results.json, results-file).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { commandsOf, results, runAction } from '../helpers/action.js'
import { startFakeFleet, type FakeFleet } from '../helpers/fleet.js'

// Letters found nowhere else in the log.
const ENV_SECRET = 'QZXJWVQZYXJWKPFD'
/** Shorter than the env rule's 6 characters: masked because it is in `mask`. */
const MASK_VALUE = 'Vq7Kj'
const PASSWORD = 'fleet-password-1'
/** Enough hosts, each with 20 lines of 1000 characters, that `results` is trimmed and results-file written. */
const HOSTS = 60

function partOf(secret: string, text: string): string | null {
  for (let n = Math.min(4, secret.length); n <= secret.length; n++) {
    for (let i = 0; i + n <= secret.length; i++) if (text.includes(secret.slice(i, i + n))) return secret.slice(i, i + n)
  }
  return null
}

describe('env values and the mask input in files (built action)', () => {
  let fleet: FakeFleet
  let work: string
  before(async () => {
    // Each host prints the value of every env variable it got, as a deploy script echoing its settings would.
    fleet = await startFakeFleet(HOSTS, {
      auth: { password: PASSWORD },
      onExec: (command, stream) => {
        const token = /API_TOKEN='([^']*)'/.exec(command)?.[1] ?? 'none'
        const line = `token=${token} extra=${MASK_VALUE} flag=true `.padEnd(1000, '.')
        for (let i = 0; i < 25; i++) stream.write(`${line}\n`)
        stream.exit(0)
        stream.end()
      },
    })
    work = mkdtempSync(join(tmpdir(), 'ssh-fanout-e2e-secret-files-'))
  })
  after(async () => {
    await fleet?.close()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('masks every env value of 6 characters or more and every mask line in log-dir files, results.json, results and results-file', async () => {
    const runnerTemp = mkdtempSync(join(work, 'runner-temp-'))
    const ws = mkdtempSync(join(work, 'ws-'))
    const r = await runAction(
      {
        hosts: fleet.hosts.join('\n'),
        username: 'deploy',
        password: PASSWORD,
        'known-hosts': fleet.knownHosts,
        command: 'deploy',
        env: `API_TOKEN=${ENV_SECRET}\nFLAG=true`,
        mask: `\n  ${MASK_VALUE}  \n`,
        'log-dir': 'logs',
        concurrency: '20',
      },
      { env: { GITHUB_WORKSPACE: ws, RUNNER_TEMP: runnerTemp } },
    )
    assert.equal(r.code, 0, r.stdout.slice(-3000))

    // the job log: registered with the runner before anything else is printed; short env values are not
    const masks = commandsOf(r, 'add-mask').map((c) => c.message)
    assert.ok(masks.includes(ENV_SECRET), masks.join(' | '))
    assert.ok(masks.includes(MASK_VALUE), masks.join(' | '))
    assert.ok(!masks.includes('true'), 'an env value under 6 characters is masked')
    const lines = r.stdout.split('\n')
    const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'))
    assert.ok(
      lines.slice(firstOther).every((l) => !l.startsWith('::add-mask::')),
      'a mask was registered after something was printed',
    )

    const files: Array<[string, string]> = readdirSync(join(ws, 'logs')).map((f) => [`log-dir ${f}`, readFileSync(join(ws, 'logs', f), 'utf8')])
    // a log per host, results.json and run.json
    assert.equal(files.length, HOSTS + 2)
    const resultsFile = r.outputs['results-file']
    assert.ok(resultsFile?.startsWith(runnerTemp), `results-file was not written: ${resultsFile}`)
    files.push(['results-file', readFileSync(resultsFile, 'utf8')], ['results output', r.outputs.results])
    for (const [what, text] of files) {
      assert.equal(partOf(ENV_SECRET, text), null, `${what} holds the env secret`)
      assert.ok(!text.includes(MASK_VALUE), `${what} holds the mask value`)
      // run.json holds no output, only which run wrote the files
      if (what !== 'results output' && what !== 'log-dir run.json') assert.match(text, /token=\*\*\* extra=\*\*\* flag=true /, what)
    }
    const full = JSON.parse(readFileSync(resultsFile, 'utf8')) as Array<{ output: string }>
    assert.equal(full.length, HOSTS)
    assert.equal(results(r).length, HOSTS)
  })
})
