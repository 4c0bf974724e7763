/**
 * EIP-712 domain and types of everything liqnet operators sign, and a fast
 * digest computation over the wire form that gives the same 32 bytes as viem's
 * `hashTypedData` and as Solidity (`contracts/src/test/SnapshotSignatureVerifier.sol`).
 *
 * A snapshot's batch (accounts, depth points) and its market state enter the typed data as a
 * SHA-256 hash of their packed ABI encoding (`sha256(abi.encodePacked(...))` in Solidity, the
 * SHA-256 precompile), which keeps hashing 500 accounts at ~0.3 ms in Node:
 *
 *   accountsHash    = sha256(‖_i abi.encodePacked(address borrower, uint256 collateral,
 *                      uint256 borrowAssets, uint256 healthFactor, bool liquidatable, uint256 maxSeizable,
 *                      uint256 borrowShares, uint32 balanceCount,
 *                      ‖_j (uint32 reserve, uint256 collateral, uint256 debt)))
 *   marketStateHash = sha256(abi.encodePacked(bool hasMorpho,
 *                      [address loanToken, address collateralToken, uint256 lltv, uint256 totalSupplyAssets,
 *                       uint256 totalBorrowAssets, uint256 totalBorrowShares, uint256 oraclePrice] if hasMorpho,
 *                      ‖_k (address asset, uint32 liquidationThresholdBps, uint32 liquidationBonusBps,
 *                           uint32 liquidationProtocolFeeBps, uint256 price)))
 *   depthHash       = sha256(‖_i abi.encodePacked(bool zeroForOne, uint32 impactBps, uint256 amountIn, uint256 amountOut))
 *
 * in the order the accounts (sorted by borrower), balances (by reserve), reserves (by asset) and
 * points appear in the canonical message.
 */
import { createHash } from 'node:crypto'
import { keccakBytes } from '../keccak.js'
import { domainSeparator as viemDomainSeparator, hexToBytes, keccak256, type Address, type Hex, type TypedDataDomain } from 'viem'
import { bytesToHex } from 'viem'
import type { WireAccountHealth, WireDepthPoint, WireHealthSnapshot, WireLiquiditySnapshot } from '../proto/codec.js'
import { PayloadKind } from '../proto/codec.js'

/** EIP-712 domain name and version of liqnet signatures. */
export const LIQNET_DOMAIN_NAME = 'liqnet'
export const LIQNET_DOMAIN_VERSION = '1'

/**
 * What binds signatures to one network: usually the hub chain's id and the hub contract
 * (`verifyingContract`). Both are optional, as EIP-712 allows; the name and version are fixed.
 */
export type SigningDomain = { chainId?: number | bigint; verifyingContract?: Address }

/** The full EIP-712 domain for viem. */
export function liqnetDomain(domain: SigningDomain = {}): TypedDataDomain {
  return {
    name: LIQNET_DOMAIN_NAME,
    version: LIQNET_DOMAIN_VERSION,
    ...(domain.chainId !== undefined ? { chainId: BigInt(domain.chainId) } : {}),
    ...(domain.verifyingContract !== undefined ? { verifyingContract: domain.verifyingContract } : {}),
  }
}

/** The 32-byte EIP-712 domain separator (computed once per network). */
export function createDomainSeparator(domain: SigningDomain = {}): Uint8Array {
  return hexToBytes(viemDomainSeparator({ domain: liqnetDomain(domain) }))
}

/** EIP-712 types, in viem's form. Field order is part of the type hash: never reorder. */
export const snapshotTypes = {
  HealthSnapshot: [
    { name: 'chainId', type: 'uint64' },
    { name: 'protocol', type: 'uint8' },
    { name: 'market', type: 'bytes32' },
    { name: 'blockNumber', type: 'uint64' },
    { name: 'blockHash', type: 'bytes32' },
    { name: 'observedAt', type: 'uint64' },
    { name: 'full', type: 'bool' },
    { name: 'part', type: 'uint32' },
    { name: 'parts', type: 'uint32' },
    { name: 'accountCount', type: 'uint32' },
    { name: 'accountsHash', type: 'bytes32' },
    { name: 'blockTimestamp', type: 'uint64' },
    { name: 'marketStateHash', type: 'bytes32' },
  ],
  LiquiditySnapshot: [
    { name: 'chainId', type: 'uint64' },
    { name: 'venue', type: 'uint8' },
    { name: 'pair', type: 'address' },
    { name: 'token0', type: 'address' },
    { name: 'token1', type: 'address' },
    { name: 'blockNumber', type: 'uint64' },
    { name: 'blockHash', type: 'bytes32' },
    { name: 'observedAt', type: 'uint64' },
    { name: 'reserve0', type: 'uint256' },
    { name: 'reserve1', type: 'uint256' },
    { name: 'depthCount', type: 'uint32' },
    { name: 'depthHash', type: 'bytes32' },
  ],
} as const

function typeString(name: keyof typeof snapshotTypes): string {
  return `${name}(${snapshotTypes[name].map((f) => `${f.type} ${f.name}`).join(',')})`
}
/** `keccak256("HealthSnapshot(uint64 chainId,...)")`. */
export const HEALTH_SNAPSHOT_TYPEHASH = keccak256(new TextEncoder().encode(typeString('HealthSnapshot')), 'bytes')
/** `keccak256("LiquiditySnapshot(uint64 chainId,...)")`. */
export const LIQUIDITY_SNAPSHOT_TYPEHASH = keccak256(new TextEncoder().encode(typeString('LiquiditySnapshot')), 'bytes')

/** Packed size of one account without balances, of one Aave balance, and of one depth point in the batch hashes. */
export const PACKED_ACCOUNT_BYTES = 20 + 32 * 3 + 1 + 32 + 32 + 4
export const PACKED_BALANCE_BYTES = 4 + 32 + 32
export const PACKED_DEPTH_POINT_BYTES = 1 + 4 + 32 + 32
/** Packed size of a Morpho market state and of one Aave reserve in the market state hash. */
export const PACKED_MORPHO_STATE_BYTES = 20 + 20 + 32 * 5
export const PACKED_RESERVE_BYTES = 20 + 4 * 3 + 32

/** sha256 of the packed accounts (see the module comment). */
export function healthAccountsHash(accounts: readonly WireAccountHealth[]): Uint8Array {
  let size = accounts.length * PACKED_ACCOUNT_BYTES
  for (const a of accounts) if (a.balances !== undefined) size += a.balances.length * PACKED_BALANCE_BYTES
  const buf = new Uint8Array(size)
  const view = new DataView(buf.buffer)
  let o = 0
  for (const a of accounts) {
    buf.set(a.borrower, o)
    buf.set(a.collateral, o + 52 - a.collateral.length)
    buf.set(a.borrowAssets, o + 84 - a.borrowAssets.length)
    buf.set(a.healthFactor, o + 116 - a.healthFactor.length)
    buf[o + 116] = a.liquidatable ? 1 : 0
    buf.set(a.maxSeizable, o + 149 - a.maxSeizable.length)
    if (a.borrowShares !== undefined) buf.set(a.borrowShares, o + 181 - a.borrowShares.length)
    const balances = a.balances ?? []
    view.setUint32(o + 181, balances.length)
    o += PACKED_ACCOUNT_BYTES
    for (const b of balances) {
      view.setUint32(o, b.reserve)
      buf.set(b.collateral, o + 36 - b.collateral.length)
      buf.set(b.debt, o + 68 - b.debt.length)
      o += PACKED_BALANCE_BYTES
    }
  }
  return createHash('sha256').update(buf).digest()
}

/** sha256 of the packed market state (Morpho market and Aave reserves; see the module comment). */
export function marketStateHash(s: Pick<WireHealthSnapshot, 'morpho' | 'aaveReserves'>): Uint8Array {
  const reserves = s.aaveReserves ?? []
  const m = s.morpho
  const buf = new Uint8Array(1 + (m ? PACKED_MORPHO_STATE_BYTES : 0) + reserves.length * PACKED_RESERVE_BYTES)
  const view = new DataView(buf.buffer)
  let o = 1
  if (m) {
    buf[0] = 1
    buf.set(m.loanToken, 1)
    buf.set(m.collateralToken, 21)
    o = 41
    for (const w of [m.lltv, m.totalSupplyAssets, m.totalBorrowAssets, m.totalBorrowShares, m.oraclePrice]) {
      buf.set(w, o + 32 - w.length)
      o += 32
    }
  }
  for (const r of reserves) {
    buf.set(r.asset, o)
    view.setUint32(o + 20, r.liquidationThresholdBps)
    view.setUint32(o + 24, r.liquidationBonusBps)
    view.setUint32(o + 28, r.liquidationProtocolFeeBps)
    buf.set(r.price, o + 64 - r.price.length)
    o += PACKED_RESERVE_BYTES
  }
  return createHash('sha256').update(buf).digest()
}

/** sha256 of the packed depth points (see the module comment). */
export function depthPointsHash(points: readonly WireDepthPoint[]): Uint8Array {
  const buf = new Uint8Array(points.length * PACKED_DEPTH_POINT_BYTES)
  let o = 0
  for (const p of points) {
    buf[o] = p.zeroForOne ? 1 : 0
    new DataView(buf.buffer).setUint32(o + 1, p.impactBps)
    buf.set(p.amountIn, o + 37 - p.amountIn.length)
    buf.set(p.amountOut, o + 69 - p.amountOut.length)
    o += PACKED_DEPTH_POINT_BYTES
  }
  return createHash('sha256').update(buf).digest()
}

function putUint(out: Uint8Array, word: number, value: number): void {
  // value: a safe integer ≥ 0, written big-endian into the low 8 bytes of the word.
  const v = new DataView(out.buffer, out.byteOffset)
  v.setUint32(word * 32 + 24, Math.floor(value / 0x100000000))
  v.setUint32(word * 32 + 28, value >>> 0)
}
function putBytes(out: Uint8Array, word: number, value: Uint8Array): void {
  // Right-aligned: addresses and uint256 amounts; 32-byte values fill the word.
  out.set(value, word * 32 + 32 - value.length)
}

function digestOf(domainSeparator: Uint8Array, structHash: Uint8Array): Uint8Array {
  const buf = new Uint8Array(66)
  buf[0] = 0x19
  buf[1] = 0x01
  buf.set(domainSeparator, 2)
  buf.set(structHash, 34)
  return keccakBytes(buf)
}

/** EIP-712 `hashStruct(HealthSnapshot)`. */
export function healthSnapshotStructHash(s: WireHealthSnapshot, accountsHash = healthAccountsHash(s.accounts)): Uint8Array {
  const enc = new Uint8Array(14 * 32)
  enc.set(HEALTH_SNAPSHOT_TYPEHASH, 0)
  putUint(enc, 1, s.chainId)
  putUint(enc, 2, s.protocol)
  putBytes(enc, 3, s.market)
  putUint(enc, 4, s.blockNumber)
  putBytes(enc, 5, s.blockHash)
  putUint(enc, 6, s.observedAt)
  putUint(enc, 7, s.full ? 1 : 0)
  putUint(enc, 8, s.part)
  putUint(enc, 9, s.parts)
  putUint(enc, 10, s.accounts.length)
  putBytes(enc, 11, accountsHash)
  putUint(enc, 12, s.blockTimestamp ?? 0)
  putBytes(enc, 13, marketStateHash(s))
  return keccakBytes(enc)
}

/** EIP-712 `hashStruct(LiquiditySnapshot)`. */
export function liquiditySnapshotStructHash(s: WireLiquiditySnapshot): Uint8Array {
  const enc = new Uint8Array(13 * 32)
  enc.set(LIQUIDITY_SNAPSHOT_TYPEHASH, 0)
  putUint(enc, 1, s.chainId)
  putUint(enc, 2, s.venue)
  putBytes(enc, 3, s.pair)
  putBytes(enc, 4, s.token0)
  putBytes(enc, 5, s.token1)
  putUint(enc, 6, s.blockNumber)
  putBytes(enc, 7, s.blockHash)
  putUint(enc, 8, s.observedAt)
  putBytes(enc, 9, s.reserve0)
  putBytes(enc, 10, s.reserve1)
  putUint(enc, 11, s.depth.length)
  putBytes(enc, 12, depthPointsHash(s.depth))
  return keccakBytes(enc)
}

/** The 32-byte EIP-712 digest `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(snapshot))` that operators sign. */
export function healthSnapshotDigest(domainSeparator: Uint8Array, s: WireHealthSnapshot): Uint8Array {
  return digestOf(domainSeparator, healthSnapshotStructHash(s))
}
export function liquiditySnapshotDigest(domainSeparator: Uint8Array, s: WireLiquiditySnapshot): Uint8Array {
  return digestOf(domainSeparator, liquiditySnapshotStructHash(s))
}

export type SignedPayload =
  | { kind: PayloadKind.healthSnapshot; snapshot: WireHealthSnapshot }
  | { kind: PayloadKind.liquiditySnapshot; snapshot: WireLiquiditySnapshot }

/** Digest of either payload kind. */
export function payloadDigest(domainSeparator: Uint8Array, p: SignedPayload): Uint8Array {
  return p.kind === PayloadKind.healthSnapshot
    ? healthSnapshotDigest(domainSeparator, p.snapshot)
    : liquiditySnapshotDigest(domainSeparator, p.snapshot)
}

/** The same HealthSnapshot as viem typed data (for `hashTypedData`, `signTypedData`, wallets). */
export function healthSnapshotTypedData(domain: SigningDomain, s: WireHealthSnapshot) {
  return {
    domain: liqnetDomain(domain),
    types: { HealthSnapshot: snapshotTypes.HealthSnapshot },
    primaryType: 'HealthSnapshot' as const,
    message: {
      chainId: BigInt(s.chainId),
      protocol: s.protocol,
      market: bytesToHex(s.market) as Hex,
      blockNumber: BigInt(s.blockNumber),
      blockHash: bytesToHex(s.blockHash) as Hex,
      observedAt: BigInt(s.observedAt),
      full: s.full,
      part: s.part,
      parts: s.parts,
      accountCount: s.accounts.length,
      accountsHash: bytesToHex(healthAccountsHash(s.accounts)) as Hex,
      blockTimestamp: BigInt(s.blockTimestamp ?? 0),
      marketStateHash: bytesToHex(marketStateHash(s)) as Hex,
    },
  }
}

/** The same LiquiditySnapshot as viem typed data. */
export function liquiditySnapshotTypedData(domain: SigningDomain, s: WireLiquiditySnapshot) {
  const amount = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt(bytesToHex(b)))
  return {
    domain: liqnetDomain(domain),
    types: { LiquiditySnapshot: snapshotTypes.LiquiditySnapshot },
    primaryType: 'LiquiditySnapshot' as const,
    message: {
      chainId: BigInt(s.chainId),
      venue: s.venue,
      pair: bytesToHex(s.pair) as Address,
      token0: bytesToHex(s.token0) as Address,
      token1: bytesToHex(s.token1) as Address,
      blockNumber: BigInt(s.blockNumber),
      blockHash: bytesToHex(s.blockHash) as Hex,
      observedAt: BigInt(s.observedAt),
      reserve0: amount(s.reserve0),
      reserve1: amount(s.reserve1),
      depthCount: s.depth.length,
      depthHash: bytesToHex(depthPointsHash(s.depth)) as Hex,
    },
  }
}
