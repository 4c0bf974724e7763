import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import {
  PayloadKind,
  WireDecodeError,
  WireEncodeError,
  amountToBytes,
  bytesToAmount,
  decodeEnvelope,
  decodeHealthSnapshot,
  decodeHealthSnapshotReference,
  decodeEnvelopeReference,
  decodeEnvelopeStrict,
  decodeLiquiditySnapshot,
  encodeHealthSnapshot,
  encodeLiquiditySnapshot,
  healthSnapshotFromWire,
  liquiditySnapshotFromWire,
  protoTypes,
} from '../../../protocol/proto/codec.js'
import { schemaFromProto } from '../../../protocol/proto/generate.js'
import { liqnetSchema } from '../../../protocol/proto/schema.js'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { createOperatorSigner, decodePayload, signPayload } from '../../../protocol/signing/envelope.js'
import { MAX_ACCOUNTS_PER_SNAPSHOT, MAX_HEALTH_MESSAGE_BYTES, MAX_LIQUIDITY_MESSAGE_BYTES } from '../../../protocol/limits.js'
import { TEST_KEYS, makeHealthSnapshot, makeLiquiditySnapshot, makeWireHealthSnapshot, makeWireLiquiditySnapshot } from './fixtures.js'

const decoders = {
  SignedEnvelope: decodeEnvelope,
  HealthSnapshot: decodeHealthSnapshot,
  LiquiditySnapshot: decodeLiquiditySnapshot,
} as const

function decodeOnly(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes)
  } catch (err) {
    // The only acceptable failure is a typed WireDecodeError.
    if (!(err instanceof WireDecodeError)) throw err
  }
}

/** What a decoder makes of some bytes, comparable across decoders: its result as JSON (bytes as hex), or 'error' for a WireDecodeError. */
function outcome(decode: (b: Uint8Array) => unknown, b: Uint8Array): string {
  try {
    return JSON.stringify(decode(b), (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))
  } catch (err) {
    if (!(err instanceof WireDecodeError)) throw err
    return 'error'
  }
}

describe('wire codec', () => {
  it('schema.ts is generated from liqnet.proto', () => {
    const proto = readFileSync(new URL('../../../protocol/proto/liqnet.proto', import.meta.url), 'utf8')
    assert.deepEqual(JSON.parse(JSON.stringify(schemaFromProto(proto))), JSON.parse(JSON.stringify(liqnetSchema)), 'run `npx tsx protocol/proto/generate.ts`')
  })

  it('round-trips health and liquidity snapshots (domain → bytes → domain)', () => {
    for (const n of [0, 1, 500]) {
      const s = makeHealthSnapshot({ n })
      const back = healthSnapshotFromWire(decodeHealthSnapshot(encodeHealthSnapshot(s)))
      assert.deepEqual(back, { ...s, accounts: [...s.accounts].sort((a, b) => (a.borrower.toLowerCase() < b.borrower.toLowerCase() ? -1 : 1)) })
    }
    const l = makeLiquiditySnapshot()
    const lb = liquiditySnapshotFromWire(decodeLiquiditySnapshot(encodeLiquiditySnapshot(l)))
    assert.deepEqual(lb, { ...l, depth: [...l.depth].sort((a, b) => Number(a.zeroForOne) - Number(b.zeroForOne) || a.impactBps - b.impactBps) })
  })

  it('amounts are big-endian minimal bytes, round-tripping every uint256', () => {
    assert.equal(amountToBytes(0n).length, 0)
    assert.deepEqual([...amountToBytes(256n)], [1, 0])
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), (x) => bytesToAmount(amountToBytes(x)) === x))
    assert.throws(() => amountToBytes(1n << 256n), WireEncodeError)
    assert.throws(() => amountToBytes(-1n), WireEncodeError)
  })

  it('the encoding is canonical: re-encoding a decoded message gives the same bytes', () => {
    const bytes = encodeHealthSnapshot(makeHealthSnapshot({ n: 20 }))
    const msg = protoTypes.HealthSnapshot.decode(bytes)
    assert.deepEqual(protoTypes.HealthSnapshot.encode(msg).finish(), bytes)
  })

  it('rejects non-canonical and rule-breaking encodings with a code and a field', () => {
    const good = encodeHealthSnapshot(makeHealthSnapshot({ n: 2 }))
    const cases: [string, Uint8Array, string][] = [
      // explicit default `full = false` appended
      ['explicit default', Uint8Array.from([...good, 0x38, 0x00]), 'NON_CANONICAL'],
      // unknown field 15 (varint)
      ['unknown field', Uint8Array.from([...good, 0x78, 0x01]), 'NON_CANONICAL'],
      // fields out of order: chain id moved to the end
      // (chain id 31337: tag + 3-byte varint)
      ['field order', Uint8Array.from([...good.subarray(4), ...good.subarray(0, 4)]), 'NON_CANONICAL'],
    ]
    for (const [label, bytes, code] of cases) {
      assert.throws(() => decodeHealthSnapshot(bytes), (e: unknown) => e instanceof WireDecodeError && e.code === code, label)
    }
    // An amount with a leading zero byte.
    const w = makeWireHealthSnapshot({ n: 1 })
    w.accounts[0].collateral = Uint8Array.from([0, 1])
    const enc = protoTypes.HealthSnapshot.encode(w).finish()
    assert.throws(() => decodeHealthSnapshot(enc), (e: unknown) => e instanceof WireDecodeError && e.code === 'INVALID_FIELD' && e.field === 'collateral')
    // Unsorted accounts.
    const u = makeWireHealthSnapshot({ n: 3 })
    u.accounts.reverse()
    assert.throws(() => decodeHealthSnapshot(protoTypes.HealthSnapshot.encode(u).finish()), (e: unknown) => e instanceof WireDecodeError && e.field === 'accounts')
    // Too many accounts.
    const big = makeWireHealthSnapshot({ n: MAX_ACCOUNTS_PER_SNAPSHOT })
    big.accounts.push({ ...big.accounts[big.accounts.length - 1], borrower: new Uint8Array(20).fill(0xff) })
    assert.throws(() => decodeHealthSnapshot(protoTypes.HealthSnapshot.encode(big).finish()), (e: unknown) => e instanceof WireDecodeError && e.code === 'TOO_MANY_ITEMS')
  })

  it('worst-case messages fit the topic limits', () => {
    const sep = createDomainSeparator({})
    const signer = createOperatorSigner(TEST_KEYS[0])
    const max = (1n << 256n) - 1n
    const s = makeWireHealthSnapshot({ n: MAX_ACCOUNTS_PER_SNAPSHOT })
    for (const a of s.accounts) {
      a.collateral = a.borrowAssets = a.healthFactor = a.maxSeizable = amountToBytes(max)
      a.liquidatable = true
    }
    s.blockNumber = s.observedAt = Number.MAX_SAFE_INTEGER
    s.full = true
    s.part = 62
    s.parts = 63
    const h = signPayload({ kind: PayloadKind.healthSnapshot, snapshot: s }, signer, sep).bytes
    assert.ok(h.length <= MAX_HEALTH_MESSAGE_BYTES, `${h.length}`)
    const l = makeWireLiquiditySnapshot()
    l.reserve0 = l.reserve1 = amountToBytes(max)
    l.depth = Array.from({ length: 32 }, (_, i) => ({ zeroForOne: i >= 16, impactBps: 10_000 - 16 + (i % 16), amountIn: amountToBytes(max), amountOut: amountToBytes(max) }))
    const lb = signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: l }, signer, sep).bytes
    assert.ok(lb.length <= MAX_LIQUIDITY_MESSAGE_BYTES, `${lb.length}`)
  })

  describe('fuzz: no decoder crashes on random or mutated bytes', () => {
    const sep = createDomainSeparator({})
    const signer = createOperatorSigner(TEST_KEYS[0])
    const seeds: Record<keyof typeof decoders, Uint8Array> = {
      SignedEnvelope: signPayload({ kind: PayloadKind.healthSnapshot, snapshot: makeWireHealthSnapshot({ n: 3 }) }, signer, sep).bytes,
      HealthSnapshot: encodeHealthSnapshot(makeHealthSnapshot({ n: 3 })),
      LiquiditySnapshot: encodeLiquiditySnapshot(makeLiquiditySnapshot()),
    }
    const mutated = (seed: Uint8Array) =>
      fc
        .array(fc.tuple(fc.nat(seed.length + 8), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete', 'truncate')), { minLength: 1, maxLength: 6 })
        .map((ops) => {
          let b = [...seed]
          for (const [pos, val, op] of ops) {
            const p = pos % (b.length + 1)
            if (op === 'set' && b.length) b[p % b.length] = val
            else if (op === 'insert') b.splice(p, 0, val)
            else if (op === 'delete') b.splice(p, 1)
            else b = b.slice(0, p)
          }
          return Uint8Array.from(b)
        })

    for (const [name, decode] of Object.entries(decoders) as [keyof typeof decoders, (b: Uint8Array) => unknown][]) {
      it(`${name}: 5,000 random + 5,000 mutated inputs`, () => {
        fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => decodeOnly(decode, b)), { numRuns: 5000 })
        fc.assert(fc.property(mutated(seeds[name]), (b) => decodeOnly(decode, b)), { numRuns: 5000 })
      })
    }
    it('the strict HealthSnapshot decoder accepts exactly what the reflection decoder accepts (10,000 inputs)', () => {
      const check = (input: Uint8Array) => {
        const b = Uint8Array.from(input) // a plain Uint8Array, so JSON sees bytes the same way in both results
        assert.equal(outcome(decodeHealthSnapshot, b), outcome(decodeHealthSnapshotReference, b))
      }
      fc.assert(fc.property(mutated(seeds.HealthSnapshot), check), { numRuns: 8000 })
      fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), check), { numRuns: 2000 })
      for (const n of [0, 1, 50]) check(encodeHealthSnapshot(makeHealthSnapshot({ n, seed: `eq${n}` })))
    })

    it('the strict SignedEnvelope decoder accepts exactly what the reflection decoder accepts (6,000 inputs)', () => {
      const check = (input: Uint8Array) => {
        const b = Uint8Array.from(input)
        assert.equal(outcome(decodeEnvelopeStrict, b), outcome(decodeEnvelopeReference, b))
        assert.equal(outcome(decodeEnvelope, b), outcome(decodeEnvelopeReference, b))
      }
      assert.notEqual(outcome(decodeEnvelope, seeds.SignedEnvelope), 'error')
      check(seeds.SignedEnvelope)
      fc.assert(fc.property(mutated(seeds.SignedEnvelope), check), { numRuns: 5000 })
      fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), check), { numRuns: 1000 })
    })

    it('envelope payloads: 6,000 mutated payloads inside valid envelopes', () => {
      const env = decodeEnvelope(seeds.SignedEnvelope)
      fc.assert(
        fc.property(mutated(env.payload), (payload) => decodeOnly(() => decodePayload({ ...env, payload }), payload)),
        { numRuns: 6000 },
      )
    })
  })
})
