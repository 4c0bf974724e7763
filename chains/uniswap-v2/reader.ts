import { type Address, getAddress, type Hex, toFunctionSelector } from 'viem'
import { uniswapV2PairAbi } from '../../contracts/out/abis.js'
import { DEFAULT_DEPTH_IMPACTS_BPS, depthCurve, getAmountOut } from '../../protocol/risk/uniswap-v2.js'
import { type ChainClient, readBlockRef } from '../evm/client.js'
import { ChainReadError, decodeRevert } from '../evm/errors.js'
import { eventTopic, getLogsChunked } from '../evm/logs.js'
import { type Call, multicallRaw, type MulticallOptions, readWords } from '../evm/multicall.js'
import type { BlockRef, UniswapV2Depth, UniswapV2PoolState } from '../types.js'

const GET_RESERVES = toFunctionSelector('getReserves()')
const TOKEN0 = toFunctionSelector('token0()')
const TOKEN1 = toFunctionSelector('token1()')
/** `Sync(uint112 reserve0, uint112 reserve1)`: every reserve change of a pair emits it. */
export const UNISWAP_V2_SYNC_TOPIC: Hex = eventTopic(uniswapV2PairAbi, 'Sync').topic0

/** A configured pair: its tokens are read from the chain when not given. */
export type UniswapV2PairConfig = { address: Address; token0?: Address; token1?: Address }

/** The input token is not one of the pair's two tokens. */
export class TokenNotInPairError extends ChainReadError {
  override name = 'TokenNotInPairError'
  constructor(pair: Address, token: Address) {
    super(`Token ${token} is not a token of Uniswap V2 pair ${pair}.`, { metaMessages: ['Pass token0 or token1 of the pair as tokenIn.'] })
  }
}

/**
 * Reads the reserves (`getReserves`) of every pair at one block with Multicall3; also `token0` /
 * `token1` for pairs configured without them.
 *
 * @throws RpcUnavailableError; ContractRevertError when an address is not a pair.
 */
export async function readUniswapV2Pools(
  client: ChainClient,
  pairs: readonly UniswapV2PairConfig[],
  params: { blockNumber?: bigint; block?: BlockRef } = {},
  options: MulticallOptions = {},
): Promise<UniswapV2PoolState[]> {
  const block = params.block ?? (await readBlockRef(client, params.blockNumber))
  const calls: Call[] = []
  const slots: { k: number; what: 'reserves' | 'token0' | 'token1' }[] = []
  pairs.forEach((p, k) => {
    calls.push({ target: p.address, callData: GET_RESERVES, gas: 15_000n })
    slots.push({ k, what: 'reserves' })
    if (!p.token0 || !p.token1) {
      calls.push({ target: p.address, callData: TOKEN0, gas: 10_000n }, { target: p.address, callData: TOKEN1, gas: 10_000n })
      slots.push({ k, what: 'token0' }, { k, what: 'token1' })
    }
  })
  const state = pairs.map((p) => ({ reserve0: 0n, reserve1: 0n, ts: 0, token0: p.token0, token1: p.token1 }))
  await multicallRaw(
    client,
    calls,
    (i, ok, hex, s, e) => {
      const { k, what } = slots[i]
      if (!ok || e - s < (what === 'reserves' ? 192 : 64))
        throw decodeRevert(`0x${hex.slice(s, e)}` as Hex, uniswapV2PairAbi, { address: pairs[k].address, functionName: what === 'reserves' ? 'getReserves' : what })
      const w = readWords(hex, s, what === 'reserves' ? 3 : 1)
      if (what === 'reserves') {
        state[k].reserve0 = w[0]
        state[k].reserve1 = w[1]
        state[k].ts = Number(w[2])
      } else state[k][what] = getAddress(`0x${w[0].toString(16).padStart(40, '0')}`)
    },
    { ...options, blockNumber: block.blockNumber },
  )
  return pairs.map((p, k) => ({
    protocol: 'uniswap-v2',
    chainId: block.chainId,
    blockNumber: block.blockNumber,
    pair: getAddress(p.address),
    token0: getAddress(state[k].token0!),
    token1: getAddress(state[k].token1!),
    reserve0: state[k].reserve0,
    reserve1: state[k].reserve1,
    blockTimestampLast: state[k].ts,
  }))
}

/** The pool's reserves ordered as (in, out) for selling `tokenIn`. @throws TokenNotInPairError */
export function orientReserves(pool: UniswapV2PoolState, tokenIn: Address): { reserveIn: bigint; reserveOut: bigint; tokenOut: Address } {
  const t = tokenIn.toLowerCase()
  if (t === pool.token0.toLowerCase()) return { reserveIn: pool.reserve0, reserveOut: pool.reserve1, tokenOut: pool.token1 }
  if (t === pool.token1.toLowerCase()) return { reserveIn: pool.reserve1, reserveOut: pool.reserve0, tokenOut: pool.token0 }
  throw new TokenNotInPairError(pool.pair, tokenIn)
}

/**
 * The exact amount out of selling `amountIn` of `tokenIn` into the pool at its read reserves:
 * `UniswapV2Library.getAmountOut` (0.3% fee), from protocol/risk. This is what `swap` pays out for
 * `amountIn` transferred to the pair, to the wei.
 *
 * @throws TokenNotInPairError; RiskInputError on a zero amount or empty reserves.
 */
export function quoteExactIn(pool: UniswapV2PoolState, tokenIn: Address, amountIn: bigint): { amountOut: bigint; tokenOut: Address } {
  const { reserveIn, reserveOut, tokenOut } = orientReserves(pool, tokenIn)
  return { amountOut: getAmountOut(amountIn, reserveIn, reserveOut), tokenOut }
}

/**
 * How much of `tokenIn` the pool absorbs within each price-impact bound (default 50, 100, 200,
 * 500 bps) and what it pays out: `depthCurve` from protocol/risk.
 *
 * @throws TokenNotInPairError; RiskInputError on empty reserves.
 */
export function poolDepth(pool: UniswapV2PoolState, tokenIn: Address, impactsBps: readonly bigint[] = DEFAULT_DEPTH_IMPACTS_BPS): UniswapV2Depth {
  const { reserveIn, reserveOut, tokenOut } = orientReserves(pool, tokenIn)
  return { pair: pool.pair, tokenIn: getAddress(tokenIn), tokenOut, blockNumber: pool.blockNumber, points: depthCurve(reserveIn, reserveOut, impactsBps) }
}

/**
 * The pairs whose reserves changed in blocks `[fromBlock, toBlock]` (a `Sync` log), for
 * re-reading only those after a new head.
 * @throws RpcUnavailableError, LogRangeRefusedError
 */
export async function changedUniswapV2Pairs(
  client: ChainClient,
  pairs: readonly Address[],
  fromBlock: bigint,
  toBlock: bigint,
): Promise<Set<Address>> {
  if (pairs.length === 0 || toBlock < fromBlock) return new Set()
  const logs = await getLogsChunked(client, { address: pairs, topics: [UNISWAP_V2_SYNC_TOPIC], fromBlock, toBlock })
  return new Set(logs.map((l) => getAddress(l.address)))
}
