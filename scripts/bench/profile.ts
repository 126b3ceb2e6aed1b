/** Summarises V8 .cpuprofile files (node --cpu-prof): self time per function, top entries. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export function summariseProfile(path: string, top = 15): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let total = 0
  p.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame
    const where = f.url ? ` ${basename(f.url)}:${f.lineNumber + 1}` : ''
    const key = `${f.functionName || '(anonymous)'}${where}`
    const us = p.timeDeltas[i] ?? 0
    self.set(key, (self.get(key) ?? 0) + us)
    total += us
  })
  const idle = self.get('(idle)') ?? 0
  const lines = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `     ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
  return [`   ${basename(path)}: ${(total / 1000).toFixed(0)} ms sampled, ${(idle / 1000).toFixed(0)} ms idle (waiting on the network)`, ...lines].join('\n')
}

/** The profiles under DIR/action and DIR/floor (written by `--cpu-prof DIR`), each contender's under its name. */
export function summariseProfiles(dir: string): string {
  return ['action', 'floor']
    .filter((c) => existsSync(join(dir, c)))
    .map((c) => {
      const files = readdirSync(join(dir, c)).filter((f) => f.endsWith('.cpuprofile'))
      return [`  ${c}:`, ...files.map((f) => summariseProfile(join(dir, c, f)))].join('\n')
    })
    .join('\n')
}
