/**
 * Real ansible-core (Debian package ansible-core) as the reference for the inventory semantics
 * (order, selection, vars; the parser's reference is ./ansible.ts):
 *  - `ansibleReports`: one Python process that loads each inventory file with ansible-core's
 *    InventoryManager (what the `ansible` CLI builds) and prints its model (groups and hosts in
 *    creation order, depth, priority, group_names) and, for each pattern, list_hosts(pattern)
 *    (what `ansible PATTERN --list-hosts` prints) or the error, with the warnings it gave, and
 *    each host's vars as `ansible-inventory --list` computes them (its _get_host_variables);
 *  - `listHostsCli` and `inventoryListCli`: the commands themselves, `ansible PATTERN -i FILE
 *    --list-hosts` and `ansible-inventory -i FILE --list`.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { VarValue } from '../../src/engine/inventory/types.js'
import { asKept } from './ansible.js'
import type { AnsibleModel } from './inventory.js'

const run = promisify(execFile)

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
from ansible.vars.manager import VariableManager
from ansible.cli.inventory import INTERNAL_VARS
# ansible-inventory leaves these out; a host named like a group even gets them on the group.
internal = ('inventory_file', 'inventory_dir')
def report(source, patterns):
  del warnings[:]
  im = InventoryManager(DataLoader(), sources=[source])
  failed = [w for w in warnings if 'Unable to parse' in w or 'Failed to parse' in w]
  if failed: sys.exit('ansible-core could not parse %s: %s' % (source, ' '.join(warnings)))
  data = im._inventory
  model = {
    'groups': [{'name': g.name, 'hosts': [h.name for h in g.hosts], 'children': [c.name for c in g.child_groups],
                'vars': {k: v for k, v in g.vars.items() if k not in internal}, 'priority': g.priority, 'depth': g.depth}
               for g in data.groups.values()],
    'hosts': [{'name': h.name, 'vars': {k: v for k, v in h.vars.items() if k not in internal},
               'groupNames': h.get_magic_vars()['group_names']} for h in data.hosts.values()],
  }
  # What ansible-inventory --list shows as hostvars (InventoryCLI._get_host_variables).
  vm = VariableManager(loader=im._loader, inventory=im)
  hostvars = {}
  for h in data.hosts.values():
    hv = vm.get_vars(host=h, include_hostvars=False, stage='all')
    hostvars[h.name] = {k: v for k, v in hv.items() if k not in INTERNAL_VARS}
  select = {}
  for p in patterns:
    im.clear_caches()
    del warnings[:]
    try:
      select[p] = {'hosts': [str(h) for h in im.list_hosts(p)], 'warnings': list(warnings)}
    except Exception as e:
      select[p] = {'error': str(e), 'warnings': list(warnings)}
  return {'model': model, 'hostvars': hostvars, 'select': select}
print(json.dumps([report(source, patterns) for source, patterns in json.load(sys.stdin)], default=str))
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
  /** Each host's merged vars as ansible-inventory --list computes them, in process. */
  hostvars: Record<string, Record<string, VarValue>>
  select: Record<string, AnsibleSelect>
}

/** One report per [file, patterns], from one Python process (each InventoryManager on its own). */
export async function ansibleReports(jobs: [string, string[]][]): Promise<AnsibleReport[]> {
  const child = run(python(), ['-c', BRIDGE], { env: ansibleEnv(), maxBuffer: 256 << 20 })
  child.child.stdin!.end(JSON.stringify(jobs))
  const { stdout } = await child
  return JSON.parse(stdout, asKept) as AnsibleReport[]
}

export async function ansibleReport(file: string, patterns: string[]): Promise<AnsibleReport> {
  return (await ansibleReports([[file, patterns]]))[0]
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
  const parsed = JSON.parse(stdout, asKept) as { _meta?: { hostvars?: Record<string, Record<string, VarValue>> } }
  return parsed._meta?.hostvars ?? {}
}
