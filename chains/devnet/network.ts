/**
 * The liqnet network description (protocol/network.ts) of a running devnet: every chain with its tokens, Morpho
 * Blue markets, Aave V3 pool and Uniswap V2 pairs from the deployment, the operator set and the hub from the
 * settlement deployment (or given explicitly).
 */
import type { Address } from 'viem'
import { BaseError } from '../../protocol/errors.js'
import { createNetwork, type Network } from '../../protocol/network.js'
import type { DevnetChain } from './types.js'

export type DevnetNetworkOptions = {
  /** Operator addresses. @default the hub's registered operator set (`deployment.settlement.operators`) */
  operators?: readonly Address[]
  /** The hub. @default the chain whose settlement deployment has a hub */
  hub?: { chainId: number; address: Address }
}

/** The devnet lacks what the network description needs (no hub deployed and none given). */
export class DevnetNetworkError extends BaseError {
  override name = 'DevnetNetworkError'
  constructor(what: string) {
    super(`Cannot describe the devnet's network: ${what}.`, { metaMessages: ['Pass `operators` and `hub` explicitly, or start the devnet with the settlement contracts.'] })
  }
}

/**
 * Builds the network description of a devnet (its chains as `startDevnet` or `readDeploymentFile` give them).
 * @throws DevnetNetworkError when operators or the hub are neither given nor deployed; NetworkConfigError.
 */
export function devnetNetwork(chains: readonly Pick<DevnetChain, 'name' | 'chainId' | 'eid' | 'deployment'>[], opts: DevnetNetworkOptions = {}): Network {
  const hubChain = chains.find((c) => c.deployment.settlement?.hub !== undefined)
  const hub = opts.hub ?? (hubChain ? { chainId: hubChain.chainId, address: hubChain.deployment.settlement!.hub! } : undefined)
  if (!hub) throw new DevnetNetworkError('no hub')
  const operators = opts.operators ?? hubChain?.deployment.settlement?.operators
  if (!operators || operators.length === 0) throw new DevnetNetworkError('no operators')
  return createNetwork({
    hub,
    operators: [...operators],
    chains: chains.map((c) => {
      const d = c.deployment
      return {
        chainId: c.chainId,
        eid: c.eid,
        name: c.name,
        tokens: Object.fromEntries(Object.entries(d.tokens).map(([s, t]) => [s, { address: t.address, decimals: t.decimals }])),
        ...(d.morpho ? { morpho: { address: d.morpho.address, markets: Object.values(d.morpho.markets).map((m) => m.id) } } : {}),
        ...(d.aave ? { aave: { pool: d.aave.pool } } : {}),
        ...(d.uniswapV2 ? { uniswapV2: { pairs: Object.values(d.uniswapV2.pairs).map((p) => p.address) } } : {}),
      }
    }),
  })
}
