// Runs after ncc (see the bundle script in package.json).
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// Keeps dist/ the same on every machine: ssh2's optional native add-ons must never be bundled.
const native = readdirSync('dist').filter((f) => f.endsWith('.node'))
if (native.length > 0) {
  console.error(`dist/ contains native add-ons (${native.join(', ')}); install with ignore-scripts (see .npmrc) so they are not built`)
  process.exit(1)
}

// dist/licenses.txt for every chunk. ncc's --license writes one file per chunk under the same name, so with the
// lazily loaded chunk (src/action/run.ts imports upload-files.ts on demand) only the last chunk's licenses would be
// left. This renders them as ncc does (its license-webpack-plugin defaults), from the modules in ncc's stats.
const STATS = 'lib/ncc-stats.json'
/** @param {string} file @returns {unknown} */
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'))
/** @typedef {{ nameForCondition?: string, modules?: StatsModule[] }} StatsModule */
const stats = /** @type {{ modules: StatsModule[], assets: Array<{ name: string }> }} */ (readJson(STATS))
rmSync(STATS)

// ncc does not empty dist/: a chunk file from an earlier build (another id) would stay behind.
const emitted = new Set(stats.assets.map((a) => a.name))
for (const f of readdirSync('dist')) if (f.endsWith('.js') && !emitted.has(f)) rmSync(join('dist', f))
/** @type {Map<string, string>} */
const packages = new Map()
/** @param {StatsModule[] | undefined} modules */
const visit = (modules) => {
  for (const m of modules ?? []) {
    visit(m.modules)
    const path = m.nameForCondition ?? ''
    const at = path.lastIndexOf('/node_modules/')
    if (at < 0) continue
    const segments = path.slice(at + '/node_modules/'.length).split('/')
    const name = segments[0].startsWith('@') ? `${segments[0]}/${segments[1]}` : segments[0]
    packages.set(name, join(path.slice(0, at), 'node_modules', name))
  }
}
visit(stats.modules)
const rendered = [...packages]
  .sort(([a], [b]) => (a < b ? -1 : 1))
  .map(([name, dir]) => {
    const pkg = /** @type {{ license?: string | { type?: string }, licenses?: Array<{ type?: string }> }} */ (readJson(join(dir, 'package.json')))
    const id = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? pkg.licenses?.[0]?.type)
    const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f) && !statSync(join(dir, f)).isDirectory())
    const text = file ? readFileSync(join(dir, file), 'utf8').replace(/\r\n/g, '\n') : null
    return `${name}${id ? `\n${id}` : ''}${text ? `\n${text}` : ''}\n\n`
  })
  .join('')
writeFileSync('dist/licenses.txt', rendered.trim() + '\n')
