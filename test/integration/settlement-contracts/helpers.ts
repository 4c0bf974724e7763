/**
 * Helpers of the settlement contract tests: plans, commit seals from the devnet operator keys, submission,
 * revert decoding, and LayerZero delivery between devnet chains (SimpleMessageLib.validatePacket, then
 * EndpointV2.lzReceive with the options' gas, from the devnet relayer account).
 */
import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  hexToBytes,
  parseEventLogs,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { endpointV2Abi, liquidationHubAbi, liquidationSpokeAbi, simpleMessageLibAbi, uniswapV2PairAbi } from '../../../contracts/out/abis.js'
import { decodeEndpointLog, type LzPacketSent } from '../../../chains/bridges/layerzero/index.js'
import { devnetClient } from '../../../chains/devnet/devnet.js'
import { TxPipeline } from '../../../chains/devnet/deploy/common.js'
import { ContractRevertError } from '../../../chains/evm/errors.js'
import type { DevnetChain } from '../../../chains/devnet/types.js'
import { accountOf } from '../../../chains/devnet/accounts.js'
import {
  SettlementProtocol,
  sealDomainSeparator,
  settlementPlanDigest,
  signCommitSeal,
  type SettlementLeg,
  type SettlementPlan,
  type SwapStep,
} from '../../../protocol/settlement/plan.js'

/** Every settlement ABI item (errors of hub, spoke, endpoint) for decoding reverts and failure reasons. */
export const settlementAbi = [...liquidationHubAbi, ...liquidationSpokeAbi.filter((i) => i.type === 'error' || i.type === 'event'), ...endpointV2Abi.filter((i) => i.type === 'error')] as Abi
/** SimpleMessageLib's ABI plus EndpointV2's errors (what validatePacket can revert with). */
export const validateAbi = [...simpleMessageLibAbi, ...endpointV2Abi.filter((i) => i.type === 'error')] as Abi
/** EndpointV2's ABI plus the settlement contracts' errors (what a delivery can revert with). */
export const deliveryAbi = [...endpointV2Abi, ...liquidationHubAbi.filter((i) => i.type === 'error'), ...liquidationSpokeAbi.filter((i) => i.type === 'error')] as Abi

export const hubOf = (c: DevnetChain): Address => c.deployment.settlement.hub!
export const spokeOf = (c: DevnetChain): Address => c.deployment.settlement.spoke!

/**
 * Commit seals of `plan` for the hub on `hubChain` by `keys` (hex private keys), sorted by signer address as
 * the hub requires. Signs with protocol/settlement/plan.ts's signCommitSeal.
 */
export function sealPlan(plan: SettlementPlan, hubChain: DevnetChain, keys: readonly Hex[], opts: { sort?: boolean } = {}): Hex[] {
  const sep = sealDomainSeparator({ chainId: hubChain.chainId, verifyingContract: hubOf(hubChain) })
  const digest = settlementPlanDigest(plan)
  const ordered = opts.sort === false ? [...keys] : sortKeys(keys)
  return ordered.map((k) => toHex(signCommitSeal(sep, plan.height, digest, hexToBytes(k))))
}

/** Keys in ascending order of their addresses. */
export function sortKeys(keys: readonly Hex[]): Hex[] {
  const addr = (k: Hex) => accountOf(k).address.toLowerCase()
  return [...keys].sort((a, b) => (addr(a) < addr(b) ? -1 : addr(a) > addr(b) ? 1 : 0))
}

/** The error name of a revert anywhere in `err`'s cause chain (viem's or the project's ContractRevertError). */
export function revertName(err: unknown): string | undefined {
  if (err instanceof ContractRevertError) return err.errorName
  if (err instanceof ViemBaseError) {
    const r = err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
    if (r) return r.data?.errorName ?? r.reason
  }
  if (err instanceof Error && err.cause) return revertName(err.cause)
  return undefined
}

/** Runs `fn`, expects it to revert with `name`; returns the error. */
export async function expectRevert(fn: () => Promise<unknown>, name: string): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    const got = revertName(err)
    if (got !== name) throw new Error(`expected revert ${name}, got ${got ?? 'none'}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    return err
  }
  throw new Error(`expected revert ${name}, but the call succeeded`)
}

/** Simulates `submitPlan` (eth_call) from `from` with `value`. */
export function simulateSubmit(hubChain: DevnetChain, plan: SettlementPlan, seals: readonly Hex[], from: Address, value = 0n) {
  return devnetClient(hubChain).simulateContract({ address: hubOf(hubChain), abi: liquidationHubAbi, functionName: 'submitPlan', args: [plan, seals], account: from, value })
}

/** Sends `submitPlan` from `from` (a dev account), paying `quoteSubmitPlan`. */
export async function submitPlan(hubChain: DevnetChain, plan: SettlementPlan, seals: readonly Hex[], from: Address): Promise<TransactionReceipt> {
  const client = devnetClient(hubChain)
  const fee = await client.readContract({ address: hubOf(hubChain), abi: liquidationHubAbi, functionName: 'quoteSubmitPlan', args: [plan] })
  const tx = await new TxPipeline({ client, account: { address: from, type: 'json-rpc' } }).init()
  tx.call({ address: hubOf(hubChain), abi: settlementAbi, functionName: 'submitPlan', args: [plan, seals], value: fee, gas: 12_000_000n, label: `submitPlan(${plan.height})` })
  const [r] = await tx.flush()
  return r
}

/** PacketSent events of a transaction for `dstEid`. */
export function packetsTo(receipt: TransactionReceipt, dstEid: number): LzPacketSent[] {
  const out: LzPacketSent[] = []
  for (const l of receipt.logs) {
    const e = decodeEndpointLog(l)
    if (e?.kind === 'sent' && e.packet.dstEid === dstEid) out.push(e)
  }
  return out
}

/**
 * Delivers the packets of `receipt` bound for `dst`: `validatePacket` on dst's SimpleMessageLib, then
 * `EndpointV2.lzReceive` with the gas of the packet's options (+ 100k for the endpoint), from the relayer.
 * @returns the lzReceive receipts. @throws ContractRevertError (decoded with the settlement ABIs) when one reverts.
 */
export async function deliver(receipt: TransactionReceipt, dst: DevnetChain): Promise<TransactionReceipt[]> {
  const packets = packetsTo(receipt, dst.eid)
  if (packets.length === 0) return []
  const tx = await new TxPipeline({ client: devnetClient(dst), account: { address: dst.accounts.relayer.address, type: 'json-rpc' } }).init()
  for (const p of packets) deliverPacket(tx, dst, p)
  const receipts = await tx.flush()
  return receipts.filter((_, i) => i % 2 === 1)
}

/** Queues the two relayer transactions of one packet on `tx` (a pipeline from the relayer on `dst`). */
export function deliverPacket(tx: TxPipeline, dst: DevnetChain, p: LzPacketSent): void {
  const { packet } = p
  tx.call({ address: dst.deployment.layerzero.receiveLib, abi: validateAbi, functionName: 'validatePacket', args: [packet.encoded], gas: 500_000n, label: `validatePacket ${packet.guid}` })
  tx.call({
    address: dst.deployment.layerzero.endpoint,
    abi: deliveryAbi,
    functionName: 'lzReceive',
    args: [{ srcEid: packet.srcEid, sender: packet.sender, nonce: packet.nonce }, packet.receiverAddress, packet.guid, packet.message, '0x'],
    gas: (p.lzReceive?.gas ?? 1_000_000n) + 100_000n,
    label: `lzReceive ${packet.guid}`,
  })
}

/** Events of the settlement contracts in a receipt. */
export function settlementEvents(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: liquidationHubAbi, logs: receipt.logs })
}
export function spokeEvents(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: liquidationSpokeAbi, logs: receipt.logs })
}

/** Decodes a Failed result's reason: `Error(string)` or a settlement custom error. */
export function decodeReason(reason: Hex): { errorName: string; args: readonly unknown[] } {
  const r = decodeErrorResult({ abi: settlementAbi, data: reason })
  return { errorName: r.errorName, args: (r.args ?? []) as readonly unknown[] }
}

/** Uniswap V2 output for `amountIn` of `tokenIn` on `pair` at the current reserves (0.3% fee). */
export async function quoteV2(client: PublicClient, pair: Address, tokenIn: Address, amountIn: bigint): Promise<bigint> {
  const [[r0, r1], token0] = await Promise.all([
    client.readContract({ address: pair, abi: uniswapV2PairAbi, functionName: 'getReserves' }),
    client.readContract({ address: pair, abi: uniswapV2PairAbi, functionName: 'token0' }),
  ])
  const [rin, rout] = token0.toLowerCase() === tokenIn.toLowerCase() ? [r0, r1] : [r1, r0]
  const fee = amountIn * 997n
  return (fee * BigInt(rout)) / (BigInt(rin) * 1000n + fee)
}

/** A leg with defaults for the unused fields. */
export function leg(p: Omit<SettlementLeg, 'seizedAssets' | 'repaidShares' | 'debtToCover' | 'marketId' | 'swaps'> & Partial<Pick<SettlementLeg, 'seizedAssets' | 'repaidShares' | 'debtToCover' | 'marketId'>> & { swaps: SwapStep[] }): SettlementLeg {
  return {
    seizedAssets: 0n,
    repaidShares: 0n,
    debtToCover: 0n,
    marketId: `0x${'00'.repeat(32)}`,
    ...p,
  }
}

/** Options of the WETH/USDC leg builders: the slippage bound as a fraction of the quote (bps, default 9,900 = −1 %). */
export type WethLegOptions = { deadline: bigint; minOutBps?: bigint }

/**
 * A Morpho Blue leg on `c`'s WETH/USDC market seizing `seized` WETH, all sold on the WETH/USDC pair with
 * minAmountOut = the pair's current quote × minOutBps / 10,000.
 */
export async function morphoWethLeg(c: DevnetChain, seq: number, borrower: string, seized: bigint, o: WethLegOptions): Promise<SettlementLeg> {
  const weth = c.deployment.tokens.WETH.address
  const pool = c.deployment.uniswapV2!.pairs['WETH/USDC'].address
  const out = await quoteV2(devnetClient(c), pool, weth, seized)
  return leg({
    seq,
    eid: c.eid,
    protocol: SettlementProtocol.morphoBlue,
    target: c.deployment.morpho!.address,
    marketId: c.deployment.morpho!.markets['WETH/USDC'].id,
    borrower: c.accounts.borrowers[borrower].address,
    collateralToken: weth,
    debtToken: c.deployment.tokens.USDC.address,
    seizedAssets: seized,
    swaps: [{ pool, amountIn: seized, minAmountOut: (out * (o.minOutBps ?? 9_900n)) / 10_000n }],
    deadline: o.deadline,
  })
}

/** An Aave V3 leg on `c`'s Pool covering `debtToCover` USDC of `borrower`'s debt, selling `sell` WETH on the WETH/USDC pair. */
export async function aaveWethLeg(c: DevnetChain, seq: number, borrower: string, debtToCover: bigint, sell: bigint, o: WethLegOptions): Promise<SettlementLeg> {
  const weth = c.deployment.tokens.WETH.address
  const pool = c.deployment.uniswapV2!.pairs['WETH/USDC'].address
  const out = await quoteV2(devnetClient(c), pool, weth, sell)
  return leg({
    seq,
    eid: c.eid,
    protocol: SettlementProtocol.aaveV3,
    target: c.deployment.aave!.pool,
    borrower: c.accounts.borrowers[borrower].address,
    collateralToken: weth,
    debtToken: c.deployment.tokens.USDC.address,
    debtToCover,
    swaps: [{ pool, amountIn: sell, minAmountOut: (out * (o.minOutBps ?? 9_900n)) / 10_000n }],
    deadline: o.deadline,
  })
}
