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

export interface StallingProxy {
  host: string
  port: number
  /** resolves once `afterBytes` client-to-server bytes passed: from then on nothing more goes to the server until resume() */
  stalled: Promise<number>
  /** forwards what was held back and everything after it */
  resume(): void
  close(): Promise<void>
}

/** A one-connection TCP proxy to `to` that acts once `afterBytes` bytes went from client to server: cuts both sides, or stops forwarding. */
async function interruptingProxy(to: { host: string; port: number }, afterBytes: number, action: 'cut' | 'stall') {
  const open = new Set<Socket>()
  let onInterrupt: (n: number) => void = () => undefined
  const interrupted = new Promise<number>((resolve) => (onInterrupt = resolve))
  let resume: () => void = () => undefined
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
    const forward = (chunk: Buffer): void => {
      if (!upstream.write(chunk)) {
        client.pause()
        upstream.once('drain', () => client.resume())
      }
    }
    client.on('data', (chunk: Buffer) => {
      const before = passed
      passed += chunk.length
      if (before >= afterBytes || passed < afterBytes) return forward(chunk)
      if (action === 'cut') {
        client.destroy()
        upstream.destroy()
        return onInterrupt(passed)
      }
      // stall: hold this chunk and read nothing more from the client until resume()
      client.pause()
      resume = () => {
        resume = () => undefined
        forward(chunk)
        client.resume()
      }
      onInterrupt(passed)
    })
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    interrupted,
    resume: () => resume(),
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A one-connection TCP proxy to `to` that destroys both sides once `afterBytes` bytes went from client to server. */
export async function cuttingProxy(to: { host: string; port: number }, afterBytes: number): Promise<CuttingProxy> {
  const { host, port, interrupted, close } = await interruptingProxy(to, afterBytes, 'cut')
  return { host, port, cut: interrupted, close }
}

/**
 * A one-connection TCP proxy to `to` that stops forwarding client-to-server bytes once `afterBytes` passed (the
 * server sees nothing more, so answers nothing more) until resume(): a point the client cannot pass, held as long
 * as the test wants.
 */
export async function stallingProxy(to: { host: string; port: number }, afterBytes: number): Promise<StallingProxy> {
  const { interrupted, ...proxy } = await interruptingProxy(to, afterBytes, 'stall')
  return { ...proxy, stalled: interrupted }
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

/**
 * Names of staging dirs and temp files anywhere under `dir`. A walk that meets a directory being
 * removed under it (ENOENT) is walked again: the removal it raced with is over or further along.
 */
export async function leftovers(dir: string): Promise<string[]> {
  for (;;) {
    try {
      return (await readdir(dir, { recursive: true })).filter((name) => name.split('/').some((s) => s.includes('.ssh-fanout-')))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || (err as NodeJS.ErrnoException).path === dir) throw err
    }
  }
}
