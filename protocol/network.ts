/**
 * The static description of a liqnet network that every node shares (from its config): the chains and what the
 * network watches on each (tokens, Morpho Blue markets, the Aave V3 pool, Uniswap V2 pairs), the operator set with
 * its fault tolerance and quorum, and the hub that verifies commit seals.
 *
 * Proposals are checked against it: a pinned chain must be one of `chains`, a snapshot scope one of the chain's
 * markets or pairs, a signer one of `operators`; token addresses map to the planner's asset symbols through `tokens`.
 *
 * Pure: no I/O. `createNetwork` validates with zod and throws {@link NetworkConfigError}.
 */
import { getAddress, isAddress, pad, type Address, type Hex } from 'viem'
import { z } from 'zod'
import { BaseError } from './errors.js'
import type { SettlementChain } from './settlement/plan.js'

/** An ERC-20 the network knows on one chain. */
export type NetworkToken = { address: Address; decimals: number }

/** One chain of the network. Addresses are checksummed; market ids lowercase 0x-hex (32 bytes). */
export type NetworkChain = {
  chainId: number
  /** LayerZero V2 endpoint id. */
  eid: number
  name: string
  /** Asset symbol (the same on every chain: WETH here and WETH there are one asset) → token. */
  tokens: Record<string, NetworkToken>
  morpho?: { address: Address; markets: Hex[] }
  aave?: { pool: Address }
  uniswapV2?: { pairs: Address[] }
}

/** The whole network. `f` = floor((n−1)/3) faults tolerated; `quorum` = 2f+1 (QBFT, and the hub's threshold). */
export type Network = {
  chains: NetworkChain[]
  /** Operator addresses, checksummed, sorted by ascending lowercase hex, distinct. */
  operators: Address[]
  f: number
  quorum: number
  /** The hub contract: the EIP-712 domain of commit seals (chainId, verifyingContract). */
  hub: { chainId: number; address: Address }
}

export type NetworkConfigErrorType = NetworkConfigError
/** A network description that breaks a rule (the issue names the field). */
export class NetworkConfigError extends BaseError {
  override name = 'NetworkConfigError'
  constructor(details: string, cause?: unknown) {
    super('Invalid network description.', { details, cause, metaMessages: ['Every node of the network must load the same description.'] })
  }
}

const address = z.string().refine((s) => isAddress(s, { strict: false }), 'must be a 20-byte 0x address').transform((s) => getAddress(s))
const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'must be 32 bytes of 0x-hex')
  .transform((s) => s.toLowerCase() as Hex)
const uint = (max: number) => z.number().int().min(1).max(max)

const chainSchema = z.object({
  chainId: uint(2 ** 32 - 1),
  eid: uint(2 ** 32 - 1),
  name: z.string().min(1).max(64),
  tokens: z.record(z.string().min(1).max(32), z.object({ address, decimals: z.number().int().min(0).max(36) })),
  morpho: z.object({ address, markets: z.array(bytes32).max(1024) }).optional(),
  aave: z.object({ pool: address }).optional(),
  uniswapV2: z.object({ pairs: z.array(address).max(1024) }).optional(),
})

const networkSchema = z.object({
  chains: z.array(chainSchema).min(1).max(64),
  operators: z.array(address).min(1).max(256),
  hub: z.object({ chainId: uint(2 ** 32 - 1), address }),
})

/** What `createNetwork` takes: the description without f and quorum (computed from the operator count). */
export type NetworkInput = z.input<typeof networkSchema>

/** f = floor((n−1)/3). */
export const faultsOf = (n: number): number => Math.floor((n - 1) / 3)
/** 2f+1. */
export const quorumOf = (n: number): number => 2 * faultsOf(n) + 1

/**
 * Validates and normalizes a network description: addresses checksummed, market ids lowercase, operators sorted,
 * chains sorted by chain id. Chain ids, EIDs, operators, token addresses per chain and symbols' decimals across
 * chains must be consistent.
 * @throws NetworkConfigError naming the offending field.
 */
export function createNetwork(input: NetworkInput): Network {
  const parsed = networkSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new NetworkConfigError(`${issue.path.join('.') || '(root)'}: ${issue.message}`, parsed.error)
  }
  const n = parsed.data
  const fail = (d: string): never => {
    throw new NetworkConfigError(d)
  }
  const ids = new Set<number>()
  const eids = new Set<number>()
  const decimals = new Map<string, number>()
  for (const c of n.chains) {
    if (ids.has(c.chainId)) fail(`chains: chain id ${c.chainId} listed twice`)
    if (eids.has(c.eid)) fail(`chains: EID ${c.eid} listed twice`)
    ids.add(c.chainId)
    eids.add(c.eid)
    const seen = new Set<string>()
    for (const [symbol, t] of Object.entries(c.tokens)) {
      const d = decimals.get(symbol)
      if (d !== undefined && d !== t.decimals) fail(`chains.${c.name}.tokens.${symbol}: ${t.decimals} decimals here, ${d} on another chain`)
      decimals.set(symbol, t.decimals)
      const a = t.address.toLowerCase()
      if (seen.has(a)) fail(`chains.${c.name}.tokens.${symbol}: address listed under two symbols`)
      seen.add(a)
    }
    if (c.morpho && new Set(c.morpho.markets).size !== c.morpho.markets.length) fail(`chains.${c.name}.morpho.markets: a market listed twice`)
    if (c.uniswapV2 && new Set(c.uniswapV2.pairs.map((p) => p.toLowerCase())).size !== c.uniswapV2.pairs.length)
      fail(`chains.${c.name}.uniswapV2.pairs: a pair listed twice`)
  }
  const operators = [...n.operators].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0))
  for (let i = 1; i < operators.length; i++) if (operators[i - 1].toLowerCase() === operators[i].toLowerCase()) fail(`operators: ${operators[i]} listed twice`)
  return {
    chains: [...n.chains].sort((a, b) => a.chainId - b.chainId) as NetworkChain[],
    operators,
    f: faultsOf(operators.length),
    quorum: quorumOf(operators.length),
    hub: n.hub,
  }
}

/** The chain of a network with this id, or undefined. */
export function networkChain(network: Network, chainId: number): NetworkChain | undefined {
  return network.chains.find((c) => c.chainId === chainId)
}

/** The symbol of a token address on a chain, or undefined (case-insensitive). */
export function tokenSymbol(chain: NetworkChain, token: Address | Hex): string | undefined {
  const t = token.toLowerCase()
  for (const [symbol, v] of Object.entries(chain.tokens)) if (v.address.toLowerCase() === t) return symbol
  return undefined
}

/**
 * The snapshot scopes a network watches on a chain, as they appear in snapshot keys (32 bytes, lowercase): Morpho
 * market ids and the Aave pool left-padded (health snapshots); Uniswap V2 pairs left-padded (liquidity snapshots).
 */
export function chainScopes(chain: NetworkChain): { health: Hex[]; liquidity: Hex[] } {
  const health: Hex[] = [...(chain.morpho?.markets ?? [])]
  if (chain.aave) health.push(pad(chain.aave.pool.toLowerCase() as Hex, { size: 32 }))
  const liquidity = (chain.uniswapV2?.pairs ?? []).map((p) => pad(p.toLowerCase() as Hex, { size: 32 }))
  return { health: health.map((h) => h.toLowerCase() as Hex), liquidity }
}

/** The chains as `toSettlementPlan` needs them: chain id, EID, symbol → token address, Morpho address. */
export function settlementChains(network: Network): SettlementChain[] {
  return network.chains.map((c) => ({
    chainId: c.chainId,
    eid: c.eid,
    tokens: Object.fromEntries(Object.entries(c.tokens).map(([s, t]) => [s, t.address])),
    ...(c.morpho ? { morpho: c.morpho.address } : {}),
  }))
}
