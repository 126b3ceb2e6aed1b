/** Optional command-line tools some suites need: skipped loudly when missing, never in CI. */
import { existsSync } from 'node:fs'

const warned = new Set<string>()

export function requireTool(path: string, debianPackage: string): boolean {
  if (existsSync(path)) return true
  const msg = `${path} is missing (Debian package ${debianPackage}; npm test installs it when run as root)`
  if (process.env.CI) throw new Error(`${msg}. Refusing to skip these tests in CI.`)
  if (!warned.has(path)) {
    warned.add(path)
    process.stderr.write(`\n!!! ${msg}\n!!! Tests that need it are SKIPPED.\n\n`)
  }
  return false
}

export const havePuttygen = (): boolean => requireTool('/usr/bin/puttygen', 'putty-tools')

/** ansible-core's `ansible-inventory` (the tests compare the inventory parser with it); never used at run time. */
export const haveAnsible = (): boolean => requireTool('/usr/bin/ansible-inventory', 'ansible-core')
