import { startDevnet, seedMorphoBorrowers } from './chains/devnet/devnet.js'
import { createChainClient } from './chains/evm/client.js'
import { discoverMorphoBorrowers, MORPHO_POSITION_EVENTS } from './chains/morpho/reader.js'
import { numberToHex } from 'viem'
const devnet = await startDevnet({ scenario: 'scenarios/devnet/test.yaml' })
try {
  const chain = devnet.chains[0]
  const [name, market] = Object.entries(chain.deployment.morpho!.markets)[0]
  await seedMorphoBorrowers(chain, name, 4000)
  const client = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], timeoutMs: 60000 })
  const head = await client.getBlockNumber()
  console.log('blocks', String(market.startBlock), String(head))
  const topics = [MORPHO_POSITION_EVENTS.filter(e => e.name === 'Borrow' || e.name === 'SupplyCollateral').map(e => e.topic0), market.id]
  let t = performance.now()
  const res = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{ address: chain.deployment.morpho!.address, topics, fromBlock: numberToHex(market.startBlock), toBlock: numberToHex(head) }] }) })
  const text = await res.text()
  console.log('raw getLogs ms', Math.round(performance.now() - t), 'KB', Math.round(text.length / 1024))
  t = performance.now()
  const j = JSON.parse(text)
  console.log('parse ms', Math.round(performance.now() - t), 'logs', j.result.length)
  t = performance.now()
  const b = await discoverMorphoBorrowers(client, { morpho: chain.deployment.morpho!.address, market: market.id, fromBlock: market.startBlock, toBlock: head })
  console.log('discover ms', Math.round(performance.now() - t), b.length)
} finally { await devnet.stop() }
