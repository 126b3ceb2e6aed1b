// ssh2's Poly1305 loader reads `__dirname`, which an ESM bundle does not define.
// This module is imported first by index.ts, so the global exists before ssh2 loads.
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const g = globalThis as { __dirname?: string }
g.__dirname ??= dirname(fileURLToPath(import.meta.url))
