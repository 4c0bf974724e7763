/**
 * Byte layouts of store keys and values. All integers are big-endian, so keys sort by
 * (bucket, fields...) and a prefix scan returns one scope in block order.
 */
import { bytesToHex, type Address, type Hex } from 'viem'
import { bytesToAmount, type AccountHealth, type PayloadKind, type WireAccountHealth } from '../../protocol/proto/codec.js'

export class KeyWriter {
  private buf: Uint8Array
  private view: DataView
  private o = 0
  constructor(size: number) {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }
  u8(v: number): this {
    this.buf[this.o++] = v
    return this
  }
  u32(v: number): this {
    this.view.setUint32(this.o, v)
    this.o += 4
    return this
  }
  /** A safe integer as 8 bytes. */
  u64(v: number): this {
    this.view.setUint32(this.o, Math.floor(v / 0x100000000))
    this.view.setUint32(this.o + 4, v >>> 0)
    this.o += 8
    return this
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.o)
    this.o += b.length
    return this
  }
  /** The bytes written so far. */
  done(): Uint8Array {
    return this.o === this.buf.length ? this.buf : this.buf.subarray(0, this.o)
  }
}

export function readU64(b: Uint8Array, o: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.length)
  return v.getUint32(o) * 0x100000000 + v.getUint32(o + 4)
}
export function readU32(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset, b.length).getUint32(o)
}

/** Smallest key greater than every key starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice()
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++
      return end.subarray(0, i + 1)
    }
  }
  return Uint8Array.from([0xff, 0xff, 0xff, 0xff])
}

/** A stored signed message: the envelope as received, with what validation learnt. */
export type SnapshotRecord = {
  kind: PayloadKind
  observedAt: number
  /** ms, local clock. */
  receivedAt: number
  digest: Uint8Array
  operator: Uint8Array
  /** The SignedEnvelope bytes (re-verifiable by anyone). */
  envelope: Uint8Array
}

const RECORD_HEADER = 1 + 8 + 8 + 32 + 20

export function encodeRecord(r: SnapshotRecord): Uint8Array {
  return new KeyWriter(RECORD_HEADER + r.envelope.length).u8(r.kind).u64(r.observedAt).u64(r.receivedAt).bytes(r.digest).bytes(r.operator).bytes(r.envelope).done()
}
export function decodeRecord(b: Uint8Array): SnapshotRecord {
  return {
    kind: b[0] as PayloadKind,
    observedAt: readU64(b, 1),
    receivedAt: readU64(b, 9),
    digest: b.subarray(17, 49),
    operator: b.subarray(49, 69),
    envelope: b.subarray(69),
  }
}
/** Reads only observedAt of an encoded record. */
export const recordObservedAt = (b: Uint8Array): number => readU64(b, 1)

/** One operator's view of one account, as stored. */
export type StoredAccountHealth = {
  chainId: number
  market: Hex
  operator: Address
  blockNumber: bigint
  /** ms since the Unix epoch. */
  observedAt: number
  account: AccountHealth
}

export function encodeAccountValue(blockNumber: number, observedAt: number, a: WireAccountHealth): Uint8Array {
  const size = 17 + 4 + a.collateral.length + a.borrowAssets.length + a.healthFactor.length + a.maxSeizable.length
  return new KeyWriter(size)
    .u64(blockNumber)
    .u64(observedAt)
    .u8(a.liquidatable ? 1 : 0)
    .u8(a.collateral.length)
    .bytes(a.collateral)
    .u8(a.borrowAssets.length)
    .bytes(a.borrowAssets)
    .u8(a.healthFactor.length)
    .bytes(a.healthFactor)
    .u8(a.maxSeizable.length)
    .bytes(a.maxSeizable)
    .done()
}

/** Decodes an account value; key fields (chain, market, borrower, operator) come from the key. */
export function decodeAccountValue(key: Uint8Array, b: Uint8Array): StoredAccountHealth {
  // key: bucket(1) chainId(8) market(32) borrower(20) operator(20)
  let o = 17
  const amount = () => {
    const len = b[o]
    const v = bytesToAmount(b.subarray(o + 1, o + 1 + len))
    o += 1 + len
    return v
  }
  const collateral = amount()
  const borrowAssets = amount()
  const healthFactor = amount()
  const maxSeizable = amount()
  return {
    chainId: readU64(key, 1),
    market: bytesToHex(key.subarray(9, 41)),
    operator: bytesToHex(key.subarray(61, 81)),
    blockNumber: BigInt(readU64(b, 0)),
    observedAt: readU64(b, 8),
    account: { borrower: bytesToHex(key.subarray(41, 61)), collateral, borrowAssets, healthFactor, liquidatable: b[16] === 1, maxSeizable },
  }
}
