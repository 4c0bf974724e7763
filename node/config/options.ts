/**
 * From the validated configuration to the options of each module (what the daemon passes on).
 */
import { join } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import type { Address } from 'viem'
import type { ChainClientOptions } from '../../chains/evm/client.js'
import { createNetwork, type Network } from '../../protocol/network.js'
import type { SigningDomain } from '../../protocol/signing/eip712.js'
import type { GossipNodeOptions } from '../gossip/node.js'
import type { P2POptions } from '../p2p/host.js'
import { defaultQuorum, type ChainConfig, type NodeConfig } from './schema.js'

/** The EIP-712 domain of the network: the hub chain id and the hub contract, when configured. */
export function signingDomainOf(c: NodeConfig): SigningDomain {
  return {
    ...(c.network.hubChainId !== undefined ? { chainId: c.network.hubChainId } : {}),
    ...(c.network.hub !== undefined ? { verifyingContract: c.network.hub as Address } : {}),
  }
}

/** Quorum of the operator set: `network.quorum`, else 2f+1. */
export function quorumOf(c: NodeConfig): number {
  return c.network.quorum ?? defaultQuorum(c.network.operators.length)
}

/** libp2p host options (`createLiqnetHost`), without the identity key and topics. */
export function p2pOptionsOf(c: NodeConfig): Omit<P2POptions, 'privateKey' | 'topics'> {
  return {
    listen: c.p2p.listen,
    announce: c.p2p.announce.length ? c.p2p.announce : undefined,
    staticPeers: c.p2p.peers,
    directPeers: c.p2p.directPeers,
    relay: c.p2p.relay,
    bootstrap: c.p2p.bootstrap,
    redialIntervalMs: c.p2p.redialIntervalMs,
    inboundConnectionThreshold: c.p2p.inboundConnectionThreshold,
    maxConnections: c.p2p.maxConnections,
  }
}

/** Where the level store lives inside the data directory. */
export const storePathOf = (c: NodeConfig): string => join(c.dataDir, 'store')

/** Options of `createGossipNode` (node/gossip/node.ts). */
export function gossipNodeOptionsOf(c: NodeConfig, privateKey: PrivateKey): GossipNodeOptions {
  return {
    privateKey,
    storePath: storePathOf(c),
    chainIds: c.chains.map((ch) => ch.chainId),
    operators: c.network.operators as Address[],
    domain: signingDomainOf(c),
    p2p: p2pOptionsOf(c),
    accountFlushMs: c.store.accountFlushMs,
    validator: { maxAgeMs: c.gossip.maxAgeMs, maxFutureMs: c.gossip.maxFutureMs, maxBlocksAhead: c.gossip.maxBlocksAhead, maxBlocksBehind: c.gossip.maxBlocksBehind },
    prune: {
      maxAgeMs: c.store.maxAgeMs,
      maxAccounts: c.store.maxAccounts,
      maxHistoryBlocksPerScope: c.store.maxHistoryBlocksPerScope,
      maxEvidence: c.store.maxEvidence,
      intervalMs: c.store.pruneIntervalMs,
    },
  }
}

/** Options of `createChainClient` (chains/evm/client.ts) for one configured chain. */
export function chainClientOptionsOf(chain: ChainConfig): ChainClientOptions {
  return {
    chainId: chain.chainId,
    rpcUrls: chain.rpcUrls,
    wsUrls: chain.wsUrls,
    timeoutMs: chain.timeoutMs,
    retryCount: chain.retryCount,
    pollingIntervalMs: chain.pollingIntervalMs,
    name: chain.name,
  }
}

/**
 * What the configuration lacks for consensus and settlement (an empty list when it has all):
 * `network.operators`, `network.hub`, `network.hubChainId`, and on every chain its `eid` and `tokens`.
 */
export function networkGapsOf(c: NodeConfig): string[] {
  const gaps: string[] = []
  if (c.network.operators.length === 0) gaps.push('network.operators')
  if (c.network.hub === undefined) gaps.push('network.hub')
  if (c.network.hubChainId === undefined) gaps.push('network.hubChainId')
  if (c.chains.length === 0) gaps.push('chains')
  c.chains.forEach((ch, i) => {
    if (ch.eid === undefined) gaps.push(`chains.${i}.eid`)
    if (Object.keys(ch.tokens).length === 0) gaps.push(`chains.${i}.tokens`)
  })
  return gaps
}

/**
 * The network description every node shares (protocol/network.ts `createNetwork`): the configured chains with
 * their tokens, Morpho markets, Aave pool and Uniswap V2 pairs, the operator set and the hub.
 * Returns undefined when the configuration lacks something ({@link networkGapsOf}).
 * @throws NetworkConfigError when the description breaks a rule (a token listed twice, decimals that differ...).
 */
export function networkOf(c: NodeConfig): Network | undefined {
  if (networkGapsOf(c).length > 0) return undefined
  return createNetwork({
    hub: { chainId: c.network.hubChainId!, address: c.network.hub! },
    operators: c.network.operators,
    chains: c.chains.map((ch) => ({
      chainId: ch.chainId,
      eid: ch.eid!,
      name: ch.name,
      tokens: ch.tokens,
      ...(ch.morpho ? { morpho: { address: ch.morpho.address, markets: ch.morpho.markets } } : {}),
      ...(ch.aave ? { aave: { pool: ch.aave.pool } } : {}),
      ...(ch.uniswapV2 ? { uniswapV2: { pairs: ch.uniswapV2.pairs } } : {}),
    })),
  })
}

/** Publisher thresholds (node/publish/publisher.ts). */
export function publisherThresholdsOf(c: NodeConfig): { nearLiquidationHfWad: bigint; fullRefreshMs: number } {
  return { nearLiquidationHfWad: BigInt(c.publish.nearLiquidationHfWad), fullRefreshMs: c.publish.fullRefreshMs }
}
