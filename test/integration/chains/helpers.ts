import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import type { Address, Hex } from 'viem'
import type { Anvil } from '../../../chains/devnet/anvil.js'
import { MULTICALL3_ADDRESS } from '../../../chains/evm/client.js'

const require = createRequire(import.meta.url)

/** Multicall3's creation code, as viem ships it for deployless multicall. */
export function multicall3CreationCode(): Hex {
  const file = require.resolve('viem').replace(/_cjs[\\/]index\.js$/, '_esm/constants/contracts.js')
  const m = /multicall3Bytecode\s*=\s*'(0x[0-9a-f]+)'/.exec(readFileSync(file, 'utf8'))
  if (!m) throw new Error('multicall3Bytecode not found in viem')
  return m[1] as Hex
}

/** Deploys Multicall3 on a plain anvil and plants its runtime code at the canonical address. */
export async function plantMulticall3(anvil: Anvil): Promise<void> {
  const [from] = await anvil.request<Address[]>('eth_accounts')
  const hash = await anvil.request<Hex>('eth_sendTransaction', [{ from, data: multicall3CreationCode(), gas: '0x500000' }])
  // eth_sendTransaction returns before the automined block is indexed under load: poll for the receipt.
  let receipt: { contractAddress: Address } | null = null
  for (let i = 0; receipt === null && i < 200; i++) {
    receipt = await anvil.request<{ contractAddress: Address } | null>('eth_getTransactionReceipt', [hash])
    if (receipt === null) await new Promise((r) => setTimeout(r, 25))
  }
  if (receipt === null) throw new Error(`no receipt for the Multicall3 deployment ${hash}`)
  const code = await anvil.request<Hex>('eth_getCode', [receipt.contractAddress, 'latest'])
  await anvil.request('anvil_setCode', [MULTICALL3_ADDRESS, code])
}

/** Starts an HTTP server on 127.0.0.1 that answers every request with `body` (status 200). */
export async function startGarbageServer(body: string | ((req: string) => string), contentType = 'text/html'): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let data = ''
    req.on('data', (d) => (data += d))
    req.on('end', () => {
      res.writeHead(200, { 'content-type': contentType })
      res.end(typeof body === 'function' ? body(data) : body)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** Starts a TCP server on 127.0.0.1 that accepts connections and never answers (an RPC that only times out). */
export async function startSilentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: TcpServer = createTcpServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

/**
 * Starts a JSON-RPC proxy on 127.0.0.1 in front of `target` that refuses `eth_getLogs`
 * over more than `maxRange` blocks (as hosted RPCs do), and counts the calls it sees.
 */
export async function startRangeLimitedProxy(target: string, maxRange: bigint): Promise<{ url: string; refused: () => number; close: () => Promise<void> }> {
  let refused = 0
  const server: Server = createServer((req, res) => {
    let data = ''
    req.on('data', (d) => (data += d))
    req.on('end', async () => {
      const body = JSON.parse(data) as { id: number; method: string; params: { fromBlock: Hex; toBlock: Hex }[] }
      if (body.method === 'eth_getLogs') {
        const p = body.params[0]
        if (BigInt(p.toBlock) - BigInt(p.fromBlock) + 1n > maxRange) {
          refused++
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: -32005, message: `query exceeds max block range ${maxRange}` } }))
          return
        }
      }
      const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: data })
      res.writeHead(upstream.status, { 'content-type': 'application/json' })
      res.end(await upstream.text())
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    refused: () => refused,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** Waits until `cond()` holds, polling every 20 ms; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
