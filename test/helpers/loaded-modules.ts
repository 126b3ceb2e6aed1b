/**
 * Preloaded with `--import` (Node 24's module.registerHooks): records the URL of every module the
 * process resolves, imports and requires alike, and on exit writes them, one a line, to the file
 * named by SSH_FANOUT_LOADED_MODULES. The runner tests read from it which packages and which
 * dist/ chunks a process loaded.
 */
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const file = process.env.SSH_FANOUT_LOADED_MODULES
const seen = new Set<string>()
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context)
    seen.add(resolved.url)
    return resolved
  },
})
process.on('exit', () => {
  if (file) writeFileSync(file, [...seen].join('\n'))
})
