/**
 * ansible-core as the tests' reference for inventories: its own INI and YAML plugins read a file
 * (test/fixtures/inventory/ansible_dump.py, run by the Python that `ansible-inventory` runs on), and
 * `ansible-inventory --list --export`. Never used at run time.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)
const ANSIBLE_INVENTORY = '/usr/bin/ansible-inventory'
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/inventory/', import.meta.url))

/** The Python `ansible-inventory` runs on (its `#!` line), which can import ansible. */
function python(): string {
  return readFileSync(ANSIBLE_INVENTORY, 'utf8')
    .split('\n')[0]
    .replace(/^#!\s*/, '')
    .trim()
}

/**
 * Runs `file args` with a private HOME and working directory (removed after), so no ansible.cfg of this
 * machine is read and nothing is written elsewhere; stdin gets `input` when given.
 */
async function run(plugin: 'ini' | 'yaml', file: string, args: string[], input?: string): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'inventory-ansible-'))
  try {
    const env = { PATH: process.env.PATH, HOME: home, LC_ALL: 'C.UTF-8', ANSIBLE_NOCOLOR: '1', ANSIBLE_INVENTORY_ENABLED: plugin }
    const child = execFileP(file, args, { cwd: home, env, maxBuffer: 64 << 20 })
    if (input !== undefined) child.child.stdin!.end(input)
    return (await child).stdout
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

export type Pairs = [string, unknown][]
export interface AnsibleGroup {
  hosts: string[]
  children: string[]
  vars: Pairs
  priority: number
}
export type AnsibleRead = { error: string } | { groups: [string, AnsibleGroup][]; hosts: [string, Pairs][]; warnings: string[] }

/** What ansible-core's plugin makes of each file (InventoryData after reconcile), by path. */
export async function ansibleRead(plugin: 'ini' | 'yaml', paths: string[]): Promise<Record<string, AnsibleRead>> {
  const stdout = await run(plugin, python(), [join(FIXTURES, 'ansible_dump.py'), plugin, ...paths])
  return JSON.parse(stdout) as Record<string, AnsibleRead>
}

export interface ExportedGroup {
  hosts?: string[]
  children?: string[]
  vars?: Record<string, unknown>
}
export interface Exported {
  _meta: { hostvars: Record<string, Record<string, unknown>> }
  [group: string]: ExportedGroup | Exported['_meta']
}

/** `ansible-inventory -i FILE --list --export`: groups with their own vars, hosts with theirs. */
export async function ansibleInventoryList(plugin: 'ini' | 'yaml', path: string): Promise<Exported> {
  const stdout = await run(plugin, ANSIBLE_INVENTORY, ['-i', path, '--list', '--export'])
  return JSON.parse(stdout, asKept) as Exported
}

/** As the parser keeps values: `!unsafe` text is text, an integer too large for a number its decimal text. */
export function asKept(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(context?.source ?? '')) return context!.source
  if (typeof value === 'object' && value !== null && Object.keys(value).join() === '__ansible_unsafe')
    return (value as { __ansible_unsafe: unknown }).__ansible_unsafe
  return value
}

/** ansible-core's INI value parsing (`InventoryModule._parse_value`) of each text. */
export async function ansibleIniValues(texts: string[]): Promise<unknown[]> {
  const script = [
    'import json, sys',
    'from ansible.plugins.inventory.ini import InventoryModule',
    'def plain(v):',
    '    if isinstance(v, bool) or v is None: return v',
    '    if isinstance(v, int): return v if abs(v) <= 2**53 - 1 else str(v)',
    '    if isinstance(v, bytes): return v.decode()',
    '    if isinstance(v, (list, tuple)): return [plain(x) for x in v]',
    '    if isinstance(v, (set, frozenset)): return [plain(x) for x in sorted(v)]',
    '    if isinstance(v, dict): return {k: plain(x) for k, x in v.items()}',
    '    if isinstance(v, (str, float)): return v',
    '    return {"unrepresentable": repr(v)}',
    'out = []',
    'for t in json.load(sys.stdin):',
    '    try: out.append({"value": plain(InventoryModule._parse_value(t))})',
    '    except Exception as e: out.append({"error": type(e).__name__})',
    'print(json.dumps(out))',
  ].join('\n')
  const stdout = await run('ini', python(), ['-c', script], JSON.stringify(texts))
  return JSON.parse(stdout) as unknown[]
}
