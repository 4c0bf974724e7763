import assert from 'node:assert/strict'
import { PayloadKind, encodeEnvelope, protoTypes } from '../../../protocol/proto/codec.js'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { createOperatorSigner, signPayload } from '../../../protocol/signing/envelope.js'
import { GossipType } from '../../../protocol/topics.js'
import { GossipAction, GossipErrorCode, gossipErrorAction } from '../../../node/gossip/errors.js'
import { SnapshotValidator, createOperatorSet } from '../../../node/gossip/validator.js'
import { BoundedQueue } from '../../../node/gossip/queue.js'
import { TEST_KEYS, makeWireHealthSnapshot, makeWireLiquiditySnapshot } from './fixtures.js'

const NOW = 1_700_000_000_000
const CHAIN = 31337
const sep = createDomainSeparator({ chainId: 1 })
const op = createOperatorSigner(TEST_KEYS[0])
const outsider = createOperatorSigner(TEST_KEYS[9])

function validator(head?: number) {
  return new SnapshotValidator({
    domainSeparator: sep,
    operators: createOperatorSet([op.address, createOperatorSigner(TEST_KEYS[1]).address]),
    heads: { head: (c) => (c === CHAIN ? head : undefined) },
    now: () => NOW,
  })
}
const health = (opts: { block?: number; observedAt?: number; seed?: string; n?: number } = {}, signer = op) =>
  signPayload(
    { kind: PayloadKind.healthSnapshot, snapshot: makeWireHealthSnapshot({ blockNumber: BigInt(opts.block ?? 100), observedAt: opts.observedAt ?? NOW - 1000, seed: opts.seed, n: opts.n }) },
    signer,
    sep,
  )

describe('gossip validation (order and outcomes)', () => {
  it('accepts a valid health and liquidity snapshot', () => {
    const v = validator(100)
    const o = v.validate(GossipType.health, CHAIN, health().bytes)
    assert.equal(o.action, GossipAction.ACCEPT)
    assert.equal(o.code, undefined)
    const l = signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: makeWireLiquiditySnapshot({ observedAt: NOW }) }, op, sep)
    assert.equal(v.validate(GossipType.liquidity, CHAIN, l.bytes).action, GossipAction.ACCEPT)
  })

  const cases: [string, () => { type?: GossipType; chain?: number; data: Uint8Array; head?: number }, GossipErrorCode][] = [
    ['garbage bytes', () => ({ data: Uint8Array.from([0xff, 0x01, 0x02, 0x03]) }), GossipErrorCode.MALFORMED],
    ['empty message', () => ({ data: new Uint8Array(0) }), GossipErrorCode.INVALID_FIELD],
    ['non-canonical envelope', () => ({ data: Uint8Array.from([...health().bytes, 0x28, 0x00]) }), GossipErrorCode.NON_CANONICAL],
    ['liquidity on a health topic', () => ({ data: signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: makeWireLiquiditySnapshot({ observedAt: NOW }) }, op, sep).bytes }), GossipErrorCode.WRONG_TOPIC],
    ['another chain on this topic', () => ({ data: health().bytes, chain: 1 }), GossipErrorCode.WRONG_TOPIC],
    ['oversized liquidity message', () => {
      const l = makeWireLiquiditySnapshot({ observedAt: NOW })
      const env = signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: l }, op, sep).envelope
      // Pad the payload's bytes field of a valid message past the 4 KiB limit: size is checked before the payload decodes.
      return { type: GossipType.liquidity, data: encodeEnvelope({ ...env, payload: new Uint8Array(5000).fill(1) }) }
    }, GossipErrorCode.OVERSIZED],
    ['unknown signer', () => ({ data: health({}, outsider).bytes }), GossipErrorCode.UNKNOWN_SIGNER],
    ['bad signature (claimed signer ≠ recovered)', () => {
      const env = health().envelope
      const other = health({ seed: 'other' }).envelope
      return { data: encodeEnvelope({ ...env, signature: other.signature }) }
    }, GossipErrorCode.BAD_SIGNATURE],
    ['forged signer field', () => {
      const env = health().envelope
      return { data: encodeEnvelope({ ...env, signer: createOperatorSigner(TEST_KEYS[1]).addressBytes }) }
    }, GossipErrorCode.BAD_SIGNATURE],
    ['stale observedAt', () => ({ data: health({ observedAt: NOW - 10 * 60_000 }).bytes }), GossipErrorCode.STALE],
    ['observedAt in the future', () => ({ data: health({ observedAt: NOW + 60_000 }).bytes }), GossipErrorCode.FROM_FUTURE],
    ['block ahead of our head', () => ({ data: health({ block: 110 }).bytes, head: 100 }), GossipErrorCode.BLOCK_AHEAD],
    ['stale block behind our head', () => ({ data: health({ block: 10 }).bytes, head: 100 }), GossipErrorCode.BLOCK_BEHIND],
  ]
  for (const [label, make, code] of cases) {
    it(`${label} → ${gossipErrorAction[code]} ${code}`, () => {
      const c = make()
      const o = validator(c.head).validate(c.type ?? GossipType.health, c.chain ?? CHAIN, c.data)
      assert.equal(o.code, code, o.action !== GossipAction.ACCEPT ? o.error.message : '')
      assert.equal(o.action, gossipErrorAction[code])
    })
  }

  it('follows the documented order: a stale message from an unknown signer is UNKNOWN_SIGNER', () => {
    const o = validator(100).validate(GossipType.health, CHAIN, health({ observedAt: 1 }, outsider).bytes)
    assert.equal(o.code, GossipErrorCode.UNKNOWN_SIGNER)
  })

  it('without a head for the chain, block sanity is skipped', () => {
    assert.equal(validator(undefined).validate(GossipType.health, CHAIN, health({ block: 1e9 }).bytes).action, GossipAction.ACCEPT)
  })

  it('dedupes, detects equivocation once, then ignores further conflicts', () => {
    const v = validator(100)
    const a = health({ block: 100, seed: 'x' })
    assert.equal(v.validate(GossipType.health, CHAIN, a.bytes).action, GossipAction.ACCEPT)
    assert.equal(v.validate(GossipType.health, CHAIN, a.bytes).code, GossipErrorCode.DUPLICATE)
    // Same operator, market, block and part; different content.
    const b = signPayload({ kind: PayloadKind.healthSnapshot, snapshot: makeWireHealthSnapshot({ blockNumber: 100n, observedAt: NOW - 500, seed: 'x' }) }, op, sep)
    const o = v.validate(GossipType.health, CHAIN, b.bytes)
    assert.equal(o.action, GossipAction.ACCEPT)
    assert.equal(o.code, GossipErrorCode.EQUIVOCATION)
    assert.equal(o.action === GossipAction.ACCEPT && o.accepted.updatesLatest, false)
    const c = signPayload({ kind: PayloadKind.healthSnapshot, snapshot: makeWireHealthSnapshot({ blockNumber: 100n, observedAt: NOW - 400, seed: 'x' }) }, op, sep)
    assert.equal(v.validate(GossipType.health, CHAIN, c.bytes).code, GossipErrorCode.EQUIVOCATION_KNOWN)
    // The next block is fine, and newer than the latest.
    const d = v.validate(GossipType.health, CHAIN, health({ block: 101, seed: 'x' }).bytes)
    assert.equal(d.action === GossipAction.ACCEPT && d.accepted.updatesLatest, true)
    // An older block is accepted into history but does not replace the latest.
    const e = v.validate(GossipType.health, CHAIN, health({ block: 99, seed: 'x' }).bytes)
    assert.equal(e.action === GossipAction.ACCEPT && e.accepted.updatesLatest, false)
  })

  it('never throws on mutated messages (every outcome is a code)', () => {
    const v = validator(100)
    const good = health({ n: 3 }).bytes
    for (let i = 0; i < 2000; i++) {
      const b = good.slice()
      b[(i * 7919) % b.length] ^= 1 + (i % 255)
      const o = v.validate(GossipType.health, CHAIN, b)
      assert.ok(o.action === GossipAction.ACCEPT || Object.values(GossipErrorCode).includes(o.code))
    }
  })

  it('every error code has an action', () => {
    for (const code of Object.values(GossipErrorCode)) assert.ok(gossipErrorAction[code])
    // protoTypes is the schema the decoder uses; the envelope has 4 fields.
    assert.equal(protoTypes.SignedEnvelope.fieldsArray.length, 4)
  })
})

describe('bounded gossip queue', () => {
  it('drops the oldest when full (FIFO), or refuses the newest', () => {
    const q = new BoundedQueue<number>({ maxLength: 3, order: 'FIFO', drop: 'oldest' })
    assert.deepEqual([1, 2, 3, 4, 5].map((i) => q.push(i)), [undefined, undefined, undefined, 1, 2])
    assert.deepEqual([q.next(), q.next(), q.next(), q.next()], [3, 4, 5, undefined])
    const r = new BoundedQueue<number>({ maxLength: 2, order: 'LIFO', drop: 'newest' })
    assert.deepEqual([1, 2, 3].map((i) => r.push(i)), [undefined, undefined, 3])
    assert.deepEqual([r.next(), r.next(), r.next()], [2, 1, undefined])
  })
  it('stays bounded under 100k pushes', () => {
    const q = new BoundedQueue<number>({ maxLength: 100, order: 'FIFO', drop: 'oldest' })
    for (let i = 0; i < 100_000; i++) q.push(i)
    assert.equal(q.length, 100)
    assert.equal(q.next(), 99_900)
  })
})
