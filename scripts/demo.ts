/**
 * `npm run demo`: starts a local fleet on loopback and runs the built action (dist/index.js)
 * against it exactly as the GitHub runner would, printing the grouped log and the job summary.
 *
 * Real OpenSSH sshd servers when sshd can be started (installed with apt-get when missing and
 * running as root); in-process ssh2 servers that run the command with the local shell otherwise.
 */
import { runAction } from '../test/helpers/action.js'
import { DEMO_COMMAND, demoInputs, startDemoFleet } from './demo-fleet.js'

/** Shows the log as the Actions UI would: groups folded into headings, workflow commands as labels. */
function render(line: string, state: { stop: string | null }): string | null {
  const m = /^::([^\s:]+)(?: [^:]*)?::(.*)$/.exec(line)
  if (state.stop !== null) {
    if (m?.[1] === state.stop) state.stop = null
    return m?.[1] === state.stop || state.stop === null ? null : `  │ ${line}`
  }
  if (!m) return line === '' ? null : line
  const [, cmd, msg] = m
  const text = msg.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%')
  switch (cmd) {
    case 'group':
      return `\n▼ ${text}`
    case 'endgroup':
      return null
    case 'stop-commands':
      state.stop = msg
      return null
    case 'add-mask':
      return null
    case 'error':
      return `\x1b[31mError:\x1b[0m ${text}`
    case 'warning':
      return `\x1b[33mWarning:\x1b[0m ${text}`
    default:
      return `[${cmd}] ${text}`
  }
}

function summaryAsText(html: string): string {
  return html
    .replace(/<\/(h2|p|tr)>/g, '\n')
    .replace(/<\/t[dh]>/g, ' | ')
    .replace(/<tr>/g, '| ')
    .replace(/<br>/g, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&#10;/g, ' ⏎ ')
    .replace(/&amp;/g, '&')
    .replace(/\n{2,}/g, '\n')
}

async function main(): Promise<void> {
  const fleet = await startDemoFleet()
  console.log(`demo: a fleet of ${fleet.hosts.length} hosts on loopback: ${fleet.kind}, plus ${fleet.dead} where nothing listens.`)
  console.log('demo: running dist/index.js as the runner would, with concurrency 2, max-failures 2, retries 1:\n')
  console.log(`  command: |\n${DEMO_COMMAND.replace(/^/gm, '    ')}\n`)

  const state = { stop: null as string | null }
  let pending = ''
  const run = await runAction(demoInputs(fleet), {
    onStdout: (text) => {
      const lines = (pending + text).split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const shown = render(line, state)
        if (shown !== null) console.log(shown)
      }
    },
  })
  await fleet.stop()
  console.log(`\n─── job summary (GITHUB_STEP_SUMMARY, as text) ───\n${summaryAsText(run.summary)}`)
  console.log(
    `─── outputs ───\nsucceeded-count=${run.outputs['succeeded-count']} failed-count=${run.outputs['failed-count']}\nfailed:\n${run.outputs['failed']}`,
  )
  console.log(`\nThe step ${run.code === 0 ? 'passed (failures within max-failures: 2)' : `failed (exit ${run.code})`}.`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
