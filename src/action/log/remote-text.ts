// Text from a host (or quoted from one) on its way to the job log: never a workflow command, never a
// forged group. core writes the commands; this is what core does not do.

/**
 * Host output on its way to the job log, as a stream: every `##[` becomes `## [`, also when a chunk
 * ends inside one. Inside stop-commands the runner acts on nothing, but it writes the line as it is,
 * and GitHub's log viewer draws `##[group]`, `##[endgroup]`, `##[error]`, `##[warning]` and the rest
 * of that family wherever they start a line: a host could close its own group and draw a forged one
 * (or a red error line). log-dir files are written from the spool, not from here: they keep the bytes.
 */
export class MarkerBreaker {
  private held = ''

  push(text: string): string {
    const all = this.held + text
    // A trailing `#` or `##` may be the start of a marker the next chunk completes.
    const keep = all.endsWith('##') ? 2 : all.endsWith('#') ? 1 : 0
    this.held = all.slice(all.length - keep)
    return breakMarkers(all.slice(0, all.length - keep))
  }

  end(): string {
    const rest = this.held
    this.held = ''
    return rest
  }
}

function breakMarkers(text: string): string {
  return text.replace(/##\[/g, '## [')
}

/** Control characters other than tab, newline, CR and ESC (colours) are shown as U+FFFD. */
export function sanitizeLog(text: string): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f\u007f]/g, '\ufffd')
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

/**
 * Text for one line of our own (an error message can quote a host, or anyone on the network
 * path): a single line in which the runner finds no workflow command. The runner reads
 * `::cmd::` at the start of a line and the legacy `##[cmd]` anywhere in it, so `::` at the start
 * becomes `: :` and every `##[` becomes `## [`. Used for titles and annotation text too.
 */
export function inert(text: string): string {
  return breakMarkers(sanitizeLog(oneLine(text))).replace(/^::/, ': :')
}
