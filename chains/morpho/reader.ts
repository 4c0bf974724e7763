import {
  type Address,
  type Hex,
  encodeFunctionData,
  getAddress,
  keccak256,
  type Log,
  toFunctionSelector,
  zeroAddress,
} from 'viem'
import { irmMockAbi, morphoAbi } from '../../contracts/out/abis.js'
import {
  accrueInterest,
  evaluateMorphoPosition,
  type MorphoMarket,
  type MorphoMarketParams,
  type MorphoPosition,
} from '../../protocol/risk/morpho.js'
import { type ChainClient, readBlockRef } from '../evm/client.js'
import { ChainReadError, decodeRevert, toChainError } from '../evm/errors.js'
import { checksumAddress, keccak256Short } from '../evm/keccak.js'
import { addressOfLog, eventTopic, getLogsChunked, getRpcLogsChunked } from '../evm/logs.js'
import { type Call, multicallRaw, type MulticallOptions, readWords } from '../evm/multicall.js'
import type { BlockRef, MorphoAccountHealth } from '../types.js'

// ───────────────────────────── ABI pieces ─────────────────────────────

/**
 * Morpho Blue events that open or change a borrow position, and the topic carrying the
 * borrower (EventsLib: `onBehalf` / `borrower`, all indexed; topic 1 is the market id).
 */
export const MORPHO_POSITION_EVENTS = (
  [
    ['Borrow', 'onBehalf'],
    ['SupplyCollateral', 'onBehalf'],
    ['Repay', 'onBehalf'],
    ['WithdrawCollateral', 'onBehalf'],
    ['Liquidate', 'borrower'],
  ] as const
).map(([name, param]) => ({ name, ...eventTopic(morphoAbi, name, param) }))

/** The events that discover borrowers: only Borrow and SupplyCollateral open a position. */
const DISCOVERY_EVENTS = MORPHO_POSITION_EVENTS.filter((e) => e.name === 'Borrow' || e.name === 'SupplyCollateral')
/** AccrueInterest, SetFee and CreateMarket only move the market, not a position. */
const MARKET_EVENTS = ['AccrueInterest', 'SetFee', 'Supply', 'Withdraw'].map((name) => eventTopic(morphoAbi, name).topic0)

const POSITION_SELECTOR = toFunctionSelector('position(bytes32,address)').slice(2)
const MARKET_SELECTOR = toFunctionSelector('market(bytes32)').slice(2)
const PARAMS_SELECTOR = toFunctionSelector('idToMarketParams(bytes32)').slice(2)
const PRICE_CALLDATA = toFunctionSelector('price()')

const EXT_SLOADS_SELECTOR = toFunctionSelector('extSloads(bytes32[])').slice(2)
/** `MorphoStorageLib.POSITION_SLOT`: `mapping(Id => mapping(address => Position)) position` is slot 2 of Morpho Blue (immutable contract). */
export const MORPHO_POSITION_SLOT = 2n
/** Gas of one slot inside `extSloads`: a cold SLOAD plus the loop and copy. Measured ≈ 2.9k on anvil; with margin. */
export const EXT_SLOAD_GAS = 4_000n
/** Slots per `extSloads` call: keeps each call's return small and memory expansion linear. */
export const EXT_SLOADS_PER_CALL = 500

/** Gas of one `position(id, user)` inside aggregate3: two cold SLOADs, the call, the copy. Measured ≈ 9k on anvil; with margin. */
export const POSITION_CALL_GAS = 14_000n

// ───────────────────────────── types ─────────────────────────────

/** A Morpho Blue market to read. */
export type MorphoMarketConfig = {
  /** Market id (bytes32). */
  id: Hex
  /** Block of the market's creation, where borrower discovery starts. @default 0n */
  startBlock?: bigint
}

/** State of one market at one block, after interest accrual to the block's timestamp. */
export type MorphoMarketSnapshot = {
  id: Hex
  params: MorphoMarketParams
  /** As stored at the block (before accrual). */
  stored: MorphoMarket
  /** Accrued to the block timestamp exactly as `_accrueInterest` would. */
  accrued: MorphoMarket
  /** IRM `borrowRateView(params, stored)`, per-second WAD; 0 when irm = address(0). */
  borrowRate: bigint
  /** Oracle `price()`, 1e36-scaled. */
  price: bigint
}

/** A market and a borrower in it. */
export type MorphoPositionKey = { market: Hex; borrower: Address }

/**
 * How positions are read:
 * - `'extSloads'`: `Morpho.extSloads(slots)` of each position's borrowShares|collateral slot
 *   (`MorphoStorageLib.positionBorrowSharesAndCollateralSlot`), several hundred slots per call,
 *   the calls batched with Multicall3. One SLOAD per borrower: about 5× faster than the getter.
 *   `supplyShares` is not read (0 in the result): it plays no part in health.
 * - `'position'`: the public getter `position(id, user)`, one aggregate3 call per borrower.
 */
export type MorphoPositionSource = 'extSloads' | 'position'

/** Options shared by the Morpho reads. */
export type MorphoReadOptions = MulticallOptions & {
  /** Keep records of positions without debt (never liquidatable). @default false */
  includeDebtFree?: boolean
  /** @default 'extSloads' */
  positionSource?: MorphoPositionSource
}

// ───────────────────────────── discovery ─────────────────────────────

/**
 * Discovers the borrowers of one market from its `Borrow` and `SupplyCollateral` events
 * (filtered by the market id topic), with chunked `eth_getLogs` from `fromBlock`
 * (the market's creation block) to `toBlock`.
 *
 * @returns distinct borrower addresses (checksummed), in order of first appearance.
 * @throws RpcUnavailableError, LogRangeRefusedError
 */
export async function discoverMorphoBorrowers(
  client: ChainClient,
  params: { morpho: Address; market: Hex; fromBlock?: bigint; toBlock: bigint; chunkSize?: bigint; signal?: AbortSignal },
): Promise<Address[]> {
  const logs = await getRpcLogsChunked(client, {
    address: params.morpho,
    topics: [DISCOVERY_EVENTS.map((e) => e.topic0), params.market],
    fromBlock: params.fromBlock ?? 0n,
    toBlock: params.toBlock,
    chunkSize: params.chunkSize,
    signal: params.signal,
  })
  const seen = new Set<string>()
  const out: Address[] = []
  for (const log of logs) {
    const b = borrowerOfLog(log)
    if (b && !seen.has(b)) {
      seen.add(b)
      out.push(checksumAddress(b))
    }
  }
  return out
}

/** The borrower a Morpho position event is about (lowercase), or undefined for other logs. */
export function borrowerOfLog(log: Pick<Log, 'topics'>): Address | undefined {
  return addressOfLog(MORPHO_POSITION_EVENTS, log)
}

// ───────────────────────────── market state ─────────────────────────────

/**
 * Reads, at one block, each market's stored state (`market(id)`), its params (`idToMarketParams`),
 * its oracle's `price()` and its IRM's `borrowRateView(params, stored)` — two multicall rounds — then
 * accrues interest to `block.timestamp` as `Morpho._accrueInterest` does.
 *
 * @throws RpcUnavailableError; ChainReadError when a market does not exist (lltv 0 / no params)
 *   or its oracle or IRM reverts (ContractRevertError as cause).
 */
export async function readMorphoMarkets(
  client: ChainClient,
  morpho: Address,
  ids: readonly Hex[],
  block: BlockRef,
  options: MulticallOptions = {},
): Promise<MorphoMarketSnapshot[]> {
  const opts = { ...options, blockNumber: block.blockNumber }
  const first: Call[] = []
  for (const id of ids) {
    first.push({ target: morpho, callData: `0x${MARKET_SELECTOR}${id.slice(2)}` as Hex, gas: 40_000n })
    first.push({ target: morpho, callData: `0x${PARAMS_SELECTOR}${id.slice(2)}` as Hex, gas: 40_000n })
  }
  const words: bigint[][] = new Array(first.length)
  await multicallRaw(
    client,
    first,
    (i, ok, hex, s, e) => {
      if (!ok) throw decodeRevert(`0x${hex.slice(s, e)}` as Hex, morphoAbi, { address: morpho, functionName: i % 2 ? 'idToMarketParams' : 'market' })
      words[i] = readWords(hex, s, (e - s) / 64)
    },
    opts,
  )
  const partial = ids.map((id, k) => {
    const m = words[2 * k]
    const p = words[2 * k + 1]
    if (m.length < 6 || p.length < 5) throw new ChainReadError(`Morpho market ${id} answered malformed data.`, { chainId: client.liqnet.chainId })
    const params: MorphoMarketParams = {
      loanToken: wordToAddress(p[0]),
      collateralToken: wordToAddress(p[1]),
      oracle: wordToAddress(p[2]),
      irm: wordToAddress(p[3]),
      lltv: p[4],
    }
    if (params.lltv === 0n && params.loanToken === zeroAddress)
      throw new ChainReadError(`Morpho market ${id} does not exist at block ${block.blockNumber}.`, {
        chainId: client.liqnet.chainId,
        metaMessages: ['Check the market id and the Morpho address.'],
      })
    const stored: MorphoMarket = {
      totalSupplyAssets: m[0],
      totalSupplyShares: m[1],
      totalBorrowAssets: m[2],
      totalBorrowShares: m[3],
      lastUpdate: m[4],
      fee: m[5],
    }
    return { id, params, stored }
  })
  const second: Call[] = []
  const slots: { k: number; isRate: boolean }[] = []
  partial.forEach(({ params, stored }, k) => {
    second.push({ target: params.oracle, callData: PRICE_CALLDATA, gas: 200_000n })
    slots.push({ k, isRate: false })
    if (params.irm === zeroAddress) return
    second.push({
      target: params.irm,
      callData: encodeFunctionData({ abi: irmMockAbi, functionName: 'borrowRateView', args: [params, stored] }),
      gas: 300_000n,
    })
    slots.push({ k, isRate: true })
  })
  const prices = new Array<bigint>(partial.length)
  const rates = new Array<bigint>(partial.length).fill(0n)
  await multicallRaw(
    client,
    second,
    (i, ok, hex, s, e) => {
      const { k, isRate } = slots[i]
      if (!ok || e - s < 64)
        throw new ChainReadError(`Morpho market ${partial[k].id}: ${isRate ? 'IRM borrowRateView' : 'oracle price()'} failed.`, {
          chainId: client.liqnet.chainId,
          cause: decodeRevert(`0x${hex.slice(s, e)}` as Hex, [], {
            address: isRate ? partial[k].params.irm : partial[k].params.oracle,
            functionName: isRate ? 'borrowRateView' : 'price',
          }),
        })
      const v = readWords(hex, s, 1)[0]
      if (isRate) rates[k] = v
      else prices[k] = v
    },
    opts,
  )
  return partial.map((p, k) => ({
    ...p,
    borrowRate: rates[k],
    price: prices[k],
    // Morpho._accrueInterest: only when elapsed != 0 and irm != address(0).
    accrued: p.params.irm === zeroAddress ? { ...p.stored } : accrueInterest(p.stored, rates[k], block.timestamp),
  }))
}

function wordToAddress(w: bigint): Address {
  return getAddress(`0x${w.toString(16).padStart(40, '0')}`)
}

// ───────────────────────────── positions ─────────────────────────────

/**
 * Reads `position(market, borrower)` for every key at one block with Multicall3 (chunked under
 * the gas cap; fixed-size results parsed straight from the hex, no ABI decoder on the hot path).
 *
 * @throws RpcUnavailableError; ContractRevertError if a read reverts.
 */
export async function readMorphoPositions(
  client: ChainClient,
  morpho: Address,
  keys: readonly MorphoPositionKey[],
  options: MulticallOptions & { blockNumber: bigint },
): Promise<MorphoPosition[]> {
  const calls: Call[] = new Array(keys.length)
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    calls[i] = {
      target: morpho,
      callData: `0x${POSITION_SELECTOR}${k.market.slice(2)}${k.borrower.slice(2).toLowerCase().padStart(64, '0')}` as Hex,
      gas: POSITION_CALL_GAS,
    }
  }
  const out = new Array<MorphoPosition>(keys.length)
  await multicallRaw(
    client,
    calls,
    (i, ok, hex, s, e) => {
      if (!ok || e - s < 192)
        throw decodeRevert(`0x${hex.slice(s, e)}` as Hex, morphoAbi, { address: morpho, functionName: 'position' })
      out[i] = {
        supplyShares: BigInt('0x' + hex.slice(s, s + 64)),
        borrowShares: BigInt('0x' + hex.slice(s + 64, s + 128)),
        collateral: BigInt('0x' + hex.slice(s + 128, s + 192)),
      }
    },
    options,
  )
  return out
}

/**
 * Storage slot of a position's `borrowShares` (low 128 bits) and `collateral` (high 128 bits):
 * keccak256(abi.encode(user, keccak256(abi.encode(id, POSITION_SLOT)))) + 1.
 * Mirrors `MorphoStorageLib.positionBorrowSharesAndCollateralSlot`.
 */
export function positionBorrowSharesAndCollateralSlot(id: Hex, user: Address): Hex {
  return slotOf({ market: id, borrower: user })
}

/** Value of one hex digit's char code (0-9, a-f, A-F). */
function nibble(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87
}
const slotBuf = new Uint8Array(64)
const slotHash = new Uint8Array(32)

/** keccak256(abi.encode(user, inner)) + 1, on bytes (no hex round trips: this runs once per borrower). */
function positionSlotFromInner(inner: Hex, user: Address): Hex {
  slotBuf.fill(0, 0, 12)
  for (let i = 0; i < 20; i++) slotBuf[12 + i] = (nibble(user.charCodeAt(2 + 2 * i)) << 4) | nibble(user.charCodeAt(3 + 2 * i))
  for (let i = 0; i < 32; i++) slotBuf[32 + i] = (nibble(inner.charCodeAt(2 + 2 * i)) << 4) | nibble(inner.charCodeAt(3 + 2 * i))
  const h = keccak256Short(slotBuf, slotHash)
  // + BORROW_SHARES_AND_COLLATERAL_OFFSET (1), big-endian with carry.
  for (let i = 31; i >= 0; i--) {
    h[i] = (h[i] + 1) & 0xff
    if (h[i] !== 0) break
  }
  return `0x${Buffer.from(h.buffer, h.byteOffset, 32).toString('hex')}` as Hex
}

/** market id → (lowercase borrower → slot). The keccak costs more than the read, and borrowers are read every block. */
const slotCache = new Map<string, { inner: Hex; slots: Map<string, Hex> }>()
const MAX_CACHED_SLOTS = 2_000_000
let cachedSlots = 0

function slotOf(key: MorphoPositionKey): Hex {
  let m = slotCache.get(key.market)
  if (m === undefined) {
    m = { inner: keccak256(`${key.market}${MORPHO_POSITION_SLOT.toString(16).padStart(64, '0')}` as Hex), slots: new Map() }
    slotCache.set(key.market, m)
  }
  let slot = m.slots.get(key.borrower)
  if (slot === undefined) {
    slot = positionSlotFromInner(m.inner, key.borrower)
    if (++cachedSlots > MAX_CACHED_SLOTS) {
      slotCache.clear()
      cachedSlots = 0
    }
    m.slots.set(key.borrower, slot)
  }
  return slot
}

const MASK_128 = (1n << 128n) - 1n

/**
 * Reads each position's borrowShares and collateral at one block with `Morpho.extSloads`
 * (see {@link MorphoPositionSource}); `supplyShares` is returned as 0.
 *
 * @throws RpcUnavailableError; ContractRevertError if extSloads reverts.
 */
export async function readMorphoPositionsBySlots(
  client: ChainClient,
  morpho: Address,
  keys: readonly MorphoPositionKey[],
  options: MulticallOptions & { blockNumber: bigint; slotsPerCall?: number },
): Promise<MorphoPosition[]> {
  const per = options.slotsPerCall ?? EXT_SLOADS_PER_CALL
  const calls: Call[] = []
  for (let start = 0; start < keys.length; start += per) {
    const end = Math.min(keys.length, start + per)
    const parts: string[] = new Array(end - start)
    for (let i = start; i < end; i++) parts[i - start] = slotOf(keys[i]).slice(2)
    calls.push({
      target: morpho,
      callData: `0x${EXT_SLOADS_SELECTOR}${(32).toString(16).padStart(64, '0')}${(end - start).toString(16).padStart(64, '0')}${parts.join('')}` as Hex,
      gas: EXT_SLOAD_GAS * BigInt(end - start) + 30_000n,
    })
  }
  const out = new Array<MorphoPosition>(keys.length)
  await multicallRaw(
    client,
    calls,
    (c, ok, hex, s, e) => {
      const first = c * per
      const n = Math.min(keys.length, first + per) - first
      // bytes32[]: offset word, length word, then n words.
      if (!ok || e - s < 128 + n * 64)
        throw decodeRevert(`0x${hex.slice(s, e)}` as Hex, morphoAbi, { address: morpho, functionName: 'extSloads' })
      let at = s + 128
      for (let i = 0; i < n; i++, at += 64) {
        const w = BigInt('0x' + hex.slice(at, at + 64))
        out[first + i] = { supplyShares: 0n, borrowShares: w & MASK_128, collateral: w >> 128n }
      }
    },
    options,
  )
  return out
}

/**
 * Evaluates positions against their market snapshot with protocol/risk (`evaluateMorphoPosition`,
 * mirroring `_isHealthy` and `liquidate`): health factor (WAD), liquidatable, max seizable collateral,
 * liquidation incentive factor.
 *
 * @throws ChainReadError when a key's market is missing from `markets`.
 */
export function evaluateMorphoPositions(
  morpho: Address,
  block: BlockRef,
  markets: ReadonlyMap<Hex, MorphoMarketSnapshot>,
  keys: readonly MorphoPositionKey[],
  positions: readonly MorphoPosition[],
  options: { includeDebtFree?: boolean } = {},
): MorphoAccountHealth[] {
  const out: MorphoAccountHealth[] = []
  for (let i = 0; i < keys.length; i++) {
    const pos = positions[i]
    if (!options.includeDebtFree && pos.borrowShares === 0n) continue
    const key = keys[i]
    const m = markets.get(key.market)
    if (!m) throw new ChainReadError(`No snapshot of market ${key.market}.`, { chainId: block.chainId })
    const ev = evaluateMorphoPosition(pos, m.accrued, m.price, m.params.lltv)
    out.push({
      protocol: 'morpho-blue',
      chainId: block.chainId,
      blockNumber: block.blockNumber,
      morpho,
      market: key.market,
      borrower: key.borrower,
      loanToken: m.params.loanToken,
      collateralToken: m.params.collateralToken,
      collateral: pos.collateral,
      borrowShares: pos.borrowShares,
      borrowAssets: ev.borrowAssets,
      maxBorrow: ev.maxBorrow,
      oraclePrice: m.price,
      lltv: m.params.lltv,
      healthFactor: ev.healthFactor,
      liquidatable: ev.liquidatable,
      liquidationIncentiveFactor: ev.liquidationIncentiveFactor,
      maxSeizable: ev.maxSeizableCollateral,
      maxRepaidShares: ev.maxRepaidShares,
    })
  }
  return out
}

/** Result of {@link scanMorpho}. */
export type MorphoScan = {
  block: BlockRef
  markets: Map<Hex, MorphoMarketSnapshot>
  keys: MorphoPositionKey[]
  positions: MorphoPosition[]
  accounts: MorphoAccountHealth[]
}

/**
 * Reads and evaluates every known borrower of the given markets at one block: market snapshots
 * (accrued), positions (multicall), then protocol/risk.
 *
 * @param borrowers market id → borrowers (from {@link discoverMorphoBorrowers}).
 * @throws RpcUnavailableError, ChainReadError, ContractRevertError
 */
export async function scanMorpho(
  client: ChainClient,
  params: { morpho: Address; borrowers: ReadonlyMap<Hex, readonly Address[]>; blockNumber?: bigint; block?: BlockRef },
  options: MorphoReadOptions = {},
): Promise<MorphoScan> {
  const block = params.block ?? (await readBlockRef(client, params.blockNumber))
  const ids = [...params.borrowers.keys()]
  const [snapshots, positions] = await Promise.all([
    readMorphoMarkets(client, params.morpho, ids, block, options),
    (async () => {
      const keys: MorphoPositionKey[] = []
      for (const [market, users] of params.borrowers) for (const borrower of users) keys.push({ market, borrower })
      const read = options.positionSource === 'position' ? readMorphoPositions : readMorphoPositionsBySlots
      return { keys, positions: await read(client, params.morpho, keys, { ...options, blockNumber: block.blockNumber }) }
    })(),
  ])
  const markets = new Map(snapshots.map((s) => [s.id, s]))
  const accounts = evaluateMorphoPositions(params.morpho, block, markets, positions.keys, positions.positions, options)
  return { block, markets, keys: positions.keys, positions: positions.positions, accounts }
}

// ───────────────────────────── incremental tracking ─────────────────────────────

/** What changed between two {@link MorphoTracker} updates. */
export type MorphoUpdate = {
  block: BlockRef
  /** Every tracked position with debt, evaluated at `block`. */
  accounts: MorphoAccountHealth[]
  /** Positions re-read from the chain at this block (touched by logs, or new). */
  reread: number
  /** Markets whose oracle price changed since the previous update. */
  priceChanged: Hex[]
  /** Accounts whose liquidatable verdict flipped since the previous update. */
  flipped: MorphoAccountHealth[]
}

/**
 * Keeps the borrowers and positions of a set of markets up to date block by block:
 * `init()` discovers borrowers and reads everything; `update(block)` fetches the Morpho logs
 * of the new blocks, re-reads only the positions those logs touched (new borrowers included),
 * re-reads the market states and prices (2 small multicalls), and re-evaluates every cached
 * position in memory — a price change re-evaluates every borrower of the market, without
 * re-reading positions, since only logs change a position.
 */
export class MorphoTracker {
  readonly client: ChainClient
  readonly morpho: Address
  readonly markets: readonly MorphoMarketConfig[]
  private readonly options: MorphoReadOptions
  private readonly positions = new Map<Hex, Map<string, { borrower: Address; position: MorphoPosition }>>()
  private snapshots = new Map<Hex, MorphoMarketSnapshot>()
  private lastBlock?: BlockRef
  private lastVerdict = new Map<string, boolean>()

  constructor(client: ChainClient, params: { morpho: Address; markets: readonly MorphoMarketConfig[] }, options: MorphoReadOptions = {}) {
    this.client = client
    this.morpho = params.morpho
    this.markets = params.markets
    this.options = options
  }

  /** The block of the last update. */
  get block(): BlockRef | undefined {
    return this.lastBlock
  }

  /** Discovers every borrower up to `blockNumber` (default latest) and reads all positions there. */
  async init(blockNumber?: bigint): Promise<MorphoUpdate> {
    const block = await readBlockRef(this.client, blockNumber)
    const borrowers = new Map<Hex, Address[]>()
    for (const m of this.markets) {
      borrowers.set(
        m.id,
        await discoverMorphoBorrowers(this.client, { morpho: this.morpho, market: m.id, fromBlock: m.startBlock ?? 0n, toBlock: block.blockNumber }),
      )
    }
    const scan = await scanMorpho(this.client, { morpho: this.morpho, borrowers, block }, { ...this.options, includeDebtFree: true })
    for (const m of this.markets) this.positions.set(m.id, new Map())
    scan.keys.forEach((k, i) => this.positions.get(k.market)!.set(k.borrower.toLowerCase(), { borrower: k.borrower, position: scan.positions[i] }))
    this.snapshots = scan.markets
    this.lastBlock = block
    return this.evaluate(block, scan.keys.length, [])
  }

  /**
   * Brings the tracker to `blockNumber` (e.g. from a follower's `follower:block`): logs of the
   * blocks since the last update → touched positions re-read; markets and prices re-read; all re-evaluated.
   * @throws RpcUnavailableError, ChainReadError
   */
  /**
   * Brings the tracker to `blockNumber`. Calls are serialized (one at a time, in call order), so a
   * follower's handler may call it for every head; a block at or below the last update is a no-op
   * returning the last state re-evaluated.
   */
  update(blockNumber: bigint): Promise<MorphoUpdate> {
    const run = this.queue.then(() => this.updateNow(blockNumber))
    this.queue = run.catch(() => {})
    return run
  }

  private queue: Promise<unknown> = Promise.resolve()

  private async updateNow(blockNumber: bigint): Promise<MorphoUpdate> {
    if (!this.lastBlock) return this.init(blockNumber)
    if (blockNumber < this.lastBlock.blockNumber) blockNumber = this.lastBlock.blockNumber
    const block = await readBlockRef(this.client, blockNumber)
    const from = this.lastBlock.blockNumber + 1n
    const touched: MorphoPositionKey[] = []
    if (block.blockNumber >= from) {
      const ids = new Set<string>(this.markets.map((m) => m.id.toLowerCase()))
      const logs = await getLogsChunked(this.client, {
        address: this.morpho,
        topics: [MORPHO_POSITION_EVENTS.map((e) => e.topic0), this.markets.map((m) => m.id)],
        fromBlock: from,
        toBlock: block.blockNumber,
      })
      const seen = new Set<string>()
      for (const log of logs) {
        const market = log.topics[1]?.toLowerCase()
        const b = borrowerOfLog(log)
        if (!market || !b || !ids.has(market)) continue
        const id = this.markets.find((m) => m.id.toLowerCase() === market)!.id
        const key = `${id}:${b}`
        if (seen.has(key)) continue
        seen.add(key)
        touched.push({ market: id, borrower: getAddress(b) })
      }
    }
    const [snapshots, positions] = await Promise.all([
      readMorphoMarkets(this.client, this.morpho, this.markets.map((m) => m.id), block, this.options),
      (this.options.positionSource === 'position' ? readMorphoPositions : readMorphoPositionsBySlots)(this.client, this.morpho, touched, {
        ...this.options,
        blockNumber: block.blockNumber,
      }),
    ])
    touched.forEach((k, i) => this.positions.get(k.market)!.set(k.borrower.toLowerCase(), { borrower: k.borrower, position: positions[i] }))
    const priceChanged: Hex[] = []
    for (const s of snapshots) if (this.snapshots.get(s.id)?.price !== s.price) priceChanged.push(s.id)
    this.snapshots = new Map(snapshots.map((s) => [s.id, s]))
    this.lastBlock = block
    return this.evaluate(block, touched.length, priceChanged)
  }

  private evaluate(block: BlockRef, reread: number, priceChanged: Hex[]): MorphoUpdate {
    const keys: MorphoPositionKey[] = []
    const positions: MorphoPosition[] = []
    for (const [market, byUser] of this.positions)
      for (const { borrower, position } of byUser.values()) {
        keys.push({ market, borrower })
        positions.push(position)
      }
    const accounts = evaluateMorphoPositions(this.morpho, block, this.snapshots, keys, positions, this.options)
    const flipped: MorphoAccountHealth[] = []
    const verdicts = new Map<string, boolean>()
    for (const a of accounts) {
      const key = `${a.market}:${a.borrower}`
      verdicts.set(key, a.liquidatable)
      if ((this.lastVerdict.get(key) ?? false) !== a.liquidatable) flipped.push(a)
    }
    for (const [key, was] of this.lastVerdict) if (was && !verdicts.has(key)) verdicts.set(key, false)
    this.lastVerdict = verdicts
    return { block, accounts, reread, priceChanged, flipped }
  }
}

/** Market-level events that do not touch positions (for callers that watch logs themselves). */
export const MORPHO_MARKET_EVENT_TOPICS: readonly Hex[] = MARKET_EVENTS
