/**
 * Two (or more) bare anvil chains with a real LayerZero V2 EndpointV2 + SimpleMessageLib each, wired to every
 * other EID, and a PingOApp per chain whose peers are the other chains' PingOApps.
 */
import { createPublicClient, http, parseEther, type Address, type Hex, type PublicClient } from 'viem'
import { endpointV2Abi, pingOAppAbi, simpleMessageLibAbi } from '../../../contracts/out/abis.js'
import { accountOf, DEPLOYER_KEY, RELAYER_KEY } from '../../../chains/devnet/accounts.js'
import { startAnvil, type Anvil } from '../../../chains/devnet/anvil.js'
import { TxPipeline } from '../../../chains/devnet/deploy/common.js'
import { addressToBytes32, lzReceiveOptions } from '../../../chains/bridges/layerzero/index.js'
import type { RelayerChainConfig } from '../../../chains/devnet/relayer.js'

export type PingChain = {
  anvil: Anvil
  chainId: number
  eid: number
  client: PublicClient
  endpoint: Address
  lib: Address
  ping: Address
  relayer: RelayerChainConfig
}

const deployer = () => accountOf(DEPLOYER_KEY).address

/** Starts `n` anvils (chain ids 31_900+k, EIDs 40_900+k) with LayerZero and PingOApp deployed and wired. */
export async function startPingChains(n = 2): Promise<PingChain[]> {
  const specs = Array.from({ length: n }, (_, k) => ({ chainId: 31_900 + k, eid: 40_900 + k }))
  const anvils = await Promise.all(specs.map((s) => startAnvil({ chainId: s.chainId })))
  try {
    const chains = await Promise.all(
      specs.map(async (s, k) => {
        const anvil = anvils[k]!
        const client = createPublicClient({ transport: http(anvil.rpcUrl, { retryCount: 0 }), pollingInterval: 20 }) as PublicClient
        const tx = await new TxPipeline({ client, account: { address: deployer(), type: 'json-rpc' } }).init()
        const endpoint = tx.deploy('EndpointV2', [s.eid, deployer()])
        const lib = tx.deploy('SimpleMessageLib', [endpoint, deployer()])
        tx.call({ address: endpoint, abi: endpointV2Abi, functionName: 'registerLibrary', args: [lib] })
        for (const o of specs) {
          if (o.eid === s.eid) continue
          tx.call({ address: endpoint, abi: endpointV2Abi, functionName: 'setDefaultSendLibrary', args: [o.eid, lib] })
          tx.call({ address: endpoint, abi: endpointV2Abi, functionName: 'setDefaultReceiveLibrary', args: [o.eid, lib, 0n] })
        }
        tx.call({ address: lib, abi: simpleMessageLibAbi, functionName: 'setWhitelistCaller', args: [accountOf(RELAYER_KEY).address] })
        const ping = tx.deploy('PingOApp', [endpoint, deployer()], { gas: 5_000_000n })
        tx.call({ address: ping, abi: pingOAppAbi, functionName: 'setReturnOptions', args: [lzReceiveOptions(200_000n)] })
        await tx.flush()
        await anvil.request('anvil_setBalance', [ping, `0x${parseEther('10').toString(16)}`])
        const relayer: RelayerChainConfig = { name: `chain-${k}`, chainId: s.chainId, eid: s.eid, rpcUrl: anvil.rpcUrl, endpoint, receiveLib: lib }
        return { anvil, chainId: s.chainId, eid: s.eid, client, endpoint, lib, ping, relayer }
      }),
    )
    // Peers: every PingOApp trusts every other.
    await Promise.all(
      chains.map(async (c) => {
        const tx = await new TxPipeline({ client: c.client, account: { address: deployer(), type: 'json-rpc' } }).init()
        for (const o of chains) if (o !== c) tx.call({ address: c.ping, abi: pingOAppAbi, functionName: 'setPeer', args: [o.eid, addressToBytes32(o.ping)] })
        await tx.flush()
      }),
    )
    return chains
  } catch (err) {
    await Promise.all(anvils.map((a) => a.stop()))
    throw err
  }
}

export const KIND = { oneWay: 0, roundTrip: 1, revert: 2 } as const

/** Sends pings from `from` to `to` (one transaction each, from the deployer); returns the transaction hashes. */
export async function sendPings(from: PingChain, to: PingChain, ids: readonly number[], kind: number = KIND.oneWay, gas = 200_000n): Promise<Hex[]> {
  const tx = await new TxPipeline({ client: from.client, account: { address: deployer(), type: 'json-rpc' } }).init()
  const options = lzReceiveOptions(gas)
  for (const id of ids) tx.call({ address: from.ping, abi: pingOAppAbi, functionName: 'ping', args: [to.eid, kind, BigInt(id), options], value: 1000n, gas: 500_000n })
  const receipts = await tx.flush()
  return receipts.map((r) => r.transactionHash)
}

/** PingOApp.received on a chain. */
export function received(c: PingChain): Promise<bigint> {
  return c.client.readContract({ address: c.ping, abi: pingOAppAbi, functionName: 'received' })
}

/** PingOApp.deliveries(guid). */
export function deliveries(c: PingChain, guid: Hex): Promise<bigint> {
  return c.client.readContract({ address: c.ping, abi: pingOAppAbi, functionName: 'deliveries', args: [guid] })
}

/** Waits until `cond` holds (polling every 25 ms), or throws after `timeoutMs`. */
export async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
