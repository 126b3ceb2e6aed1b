// Keeps dist/ the same on every machine: ssh2's optional native add-ons must never be bundled.
import { readdirSync } from 'node:fs'

const native = readdirSync('dist').filter((f) => f.endsWith('.node'))
if (native.length > 0) {
  console.error(`dist/ contains native add-ons (${native.join(', ')}); install with ignore-scripts (see .npmrc) so they are not built`)
  process.exit(1)
}
