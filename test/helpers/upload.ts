/** Helpers for the upload tests: an ssh2 client logged in to a fixture, a proxy that cuts after N bytes, tree checksums. */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { connect as tcpConnect, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import ssh2 from 'ssh2'
import type { Sshd } from './sshd.js'

/** An ssh2 Client authenticated on `sshd` (through `via` when given, e.g. a proxy). */
export function connectClient(sshd: Sshd, via?: { host: string; port: number }): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    client.once('ready', () => resolve(client))
    client.once('error', reject)
    // noDelay as the engine's transport does: without it every SFTP round trip waits for a delayed ACK
    const sock = tcpConnect({ host: via?.host ?? sshd.host, port: via?.port ?? sshd.port, noDelay: true })
    client.connect({ sock, username: sshd.username, privateKey: sshd.clientKey, readyTimeout: 10_000 })
  })
}

export interface CuttingProxy {
  host: string
  port: number
  /** resolves once the connection has been cut (after `afterBytes` client-to-server bytes passed) */
  cut: Promise<number>
  close(): Promise<void>
}

/** A one-connection TCP proxy to `to` that destroys both sides once `afterBytes` bytes went from client to server. */
export async function cuttingProxy(to: { host: string; port: number }, afterBytes: number): Promise<CuttingProxy> {
  const open = new Set<Socket>()
  let onCut: (n: number) => void = () => undefined
  const cut = new Promise<number>((resolve) => (onCut = resolve))
  const server = createServer((client) => {
    const upstream = tcpConnect({ host: to.host, port: to.port, noDelay: true })
    client.setNoDelay(true)
    let passed = 0
    for (const s of [client, upstream]) {
      open.add(s)
      s.on('error', () => undefined).on('close', () => {
        open.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk: Buffer) => {
      passed += chunk.length
      if (passed >= afterBytes) {
        client.destroy()
        upstream.destroy()
        onCut(passed)
        return
      }
      if (!upstream.write(chunk)) {
        client.pause()
        upstream.once('drain', () => client.resume())
      }
    })
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    cut,
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Every entry under `root`: 'file <mode> <sha256>', 'dir <mode>', 'link -> <target>', by relative path. */
export async function treeOf(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name)
      const rel = prefix + name
      const st = await lstat(path)
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isSymbolicLink()) out[rel] = `link -> ${await readlink(path)}`
      else if (st.isDirectory()) {
        out[rel] = `dir ${mode}`
        await walk(path, `${rel}/`)
      } else out[rel] = `file ${mode} ${await sha256File(path)}`
    }
  }
  await walk(root, '')
  return out
}

/** Polls `check` every 20 ms until it returns true; false once `timeoutMs` passed. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
}
