// Applies patches/ (ssh2, @actions/core) with patch-package before a build or run. Quiet when every
// patch applies; when one does not (the package changed under it), prints patch-package's report and
// exits 1, so the bundle fails. patch-package alone exits 0 on a failed patch outside CI: hence --error-on-fail.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const bin = createRequire(import.meta.url).resolve('patch-package/index.js')
const run = spawnSync(process.execPath, [bin, '--error-on-fail'], { encoding: 'utf8' })
if (run.status !== 0) {
  process.stderr.write(`${run.stdout ?? ''}${run.stderr ?? ''}`)
  console.error(`apply-patches: patch-package failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}): a patch in patches/ no longer applies`)
  process.exit(1)
}
