/**
 * Real ansible-core (Debian package ansible-core) as the reference for the inventory tests:
 *  - `ansibleReport`: one Python process per inventory file that loads it with ansible-core's
 *    InventoryManager (what the `ansible` CLI builds) and prints its model (groups and hosts in
 *    creation order, depth, priority, group_names) and, for each pattern, list_hosts(pattern)
 *    (what `ansible PATTERN --list-hosts` prints) or the error, with the warnings it gave;
 *  - `listHostsCli` and `inventoryListCli`: the commands themselves, `ansible PATTERN -i FILE
 *    --list-hosts` and `ansible-inventory -i FILE --list`.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { VarValue } from '../../src/engine/inventory/types.js'
import type { AnsibleModel } from './inventory.js'
import { requireTool } from './tools.js'

const run = promisify(execFile)

export const haveAnsible = (): boolean => requireTool('/usr/bin/ansible', 'ansible-core') && requireTool('/usr/bin/ansible-inventory', 'ansible-core')

/** The interpreter ansible-core is installed for (the `ansible` script's #! line). */
const python = (): string =>
  readFileSync('/usr/bin/ansible', 'utf8')
    .split('\n')[0]
    .replace(/^#!\s*/, '')
    .split(/\s+/)[0]

let env: NodeJS.ProcessEnv | undefined

/** An empty ansible.cfg (removed at exit): no config from the machine, the same answers everywhere. */
function ansibleEnv(): NodeJS.ProcessEnv {
  if (env) return env
  const dir = mkdtempSync(join(tmpdir(), 'inventory-ansible-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'ansible.cfg'), '')
  env = { ...process.env, ANSIBLE_CONFIG: join(dir, 'ansible.cfg'), ANSIBLE_NOCOWS: '1', ANSIBLE_FORCE_COLOR: '0', PYTHONWARNINGS: 'ignore' }
  return env
}

const BRIDGE = String.raw`
import json, sys
from ansible.utils.display import Display
warnings = []
Display.warning = lambda self, msg, formatted=False: warnings.append(str(msg))
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
source, patterns = sys.argv[1], json.loads(sys.argv[2])
im = InventoryManager(DataLoader(), sources=[source])
failed = [w for w in warnings if 'Unable to parse' in w or 'Failed to parse' in w]
if failed: sys.exit('ansible-core could not parse %s: %s' % (source, ' '.join(warnings)))
data = im._inventory
# ansible-inventory leaves these out; a host named like a group even gets them on the group.
internal = ('inventory_file', 'inventory_dir')
model = {
  'groups': [{'name': g.name, 'hosts': [h.name for h in g.hosts], 'children': [c.name for c in g.child_groups],
              'vars': {k: v for k, v in g.vars.items() if k not in internal}, 'priority': g.priority, 'depth': g.depth} for g in data.groups.values()],
  'hosts': [{'name': h.name, 'vars': {k: v for k, v in h.vars.items() if k not in internal},
             'groupNames': h.get_magic_vars()['group_names']} for h in data.hosts.values()],
}
select = {}
for p in patterns:
  im.clear_caches()
  del warnings[:]
  try:
    select[p] = {'hosts': [str(h) for h in im.list_hosts(p)], 'warnings': list(warnings)}
  except Exception as e:
    select[p] = {'error': str(e), 'warnings': list(warnings)}
print(json.dumps({'model': model, 'select': select}, default=str))
`

/** Runs a Python script under ansible-core's interpreter with `input` as JSON on stdin; returns what it prints as JSON. */
export async function runPython(script: string, input: unknown): Promise<unknown> {
  const child = run(python(), ['-c', script], { env: ansibleEnv(), maxBuffer: 64 << 20 })
  child.child.stdin!.end(JSON.stringify(input))
  const { stdout } = await child
  return JSON.parse(stdout) as unknown
}

export type AnsibleSelect = { hosts: string[]; warnings: string[] } | { error: string; warnings: string[] }

export interface AnsibleReport {
  model: AnsibleModel
  select: Record<string, AnsibleSelect>
}

export async function ansibleReport(file: string, patterns: string[]): Promise<AnsibleReport> {
  const { stdout } = await run(python(), ['-c', BRIDGE, file, JSON.stringify(patterns)], { env: ansibleEnv(), maxBuffer: 64 << 20 })
  return JSON.parse(stdout) as AnsibleReport
}

/** `ansible PATTERN -i FILE --list-hosts`: the host names it prints. */
export async function listHostsCli(file: string, pattern: string): Promise<string[]> {
  const { stdout } = await run('/usr/bin/ansible', [pattern, '-i', file, '--list-hosts'], { env: ansibleEnv() })
  const lines = stdout.split('\n')
  const head = lines.findIndex((l) => /^\s*hosts \(\d+\):$/.test(l))
  if (head < 0) throw new Error(`ansible --list-hosts printed no host list:\n${stdout}`)
  return lines
    .slice(head + 1)
    .map((l) => l.trim())
    .filter((l) => l !== '')
}

/** `ansible-inventory -i FILE --list`: every host's merged vars (hosts without vars are absent). */
export async function inventoryListCli(file: string): Promise<Record<string, Record<string, VarValue>>> {
  const { stdout } = await run('/usr/bin/ansible-inventory', ['-i', file, '--list'], { env: ansibleEnv(), maxBuffer: 64 << 20 })
  const parsed = JSON.parse(stdout) as { _meta?: { hostvars?: Record<string, Record<string, VarValue>> } }
  return parsed._meta?.hostvars ?? {}
}
