/**
 * QBFT messages: the EIP-712 digest against viem, the schema against consensus.proto, the
 * canonical codec's round trip and field rules, quorum, leader rotation and the round timer.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { hashTypedData, keccak256, recoverTypedDataAddress, bytesToHex, type Hex } from 'viem'
import {
  MessageKind,
  QbftDecodeError,
  QbftEncodeError,
  ZERO_DIGEST,
  consensusProtoTypes,
  createValidatorSet,
  decodePacket,
  encodePacket,
  leaderOf,
  makeMessage,
  makeRoundChange,
  qbftMessageDigest,
  qbftMessageTypedData,
  quorumSize,
  recoverQbftSigner,
  roundTimeoutMs,
  signQbftMessage,
  type QbftMessage,
  type QbftPacket,
} from '../../../protocol/consensus/index.js'
import { consensusProtoPath, consensusSchemaSource } from '../../../protocol/consensus/generate-schema.js'
import { keccakBytes, keccakHex } from '../../../protocol/keccak.js'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { DOMAIN_SEPARATOR, testKey } from './harness.js'

const domain = { chainId: 31337 }
const k0 = testKey(0)
const k1 = testKey(1)
const d1 = keccakHex(new Uint8Array([1]))
const d2 = keccakHex(new Uint8Array([2]))
const limits = { maxPacketBytes: 1 << 20, maxValueBytes: 1 << 19, maxJustifications: 4 }
const s = (m: QbftMessage, k = k0) => signQbftMessage(DOMAIN_SEPARATOR, m, k.privateKey, k.address)

describe('consensus: messages', () => {
  it('the schema is generated from consensus.proto', () => {
    assert.equal(readFileSync(new URL('../../../protocol/consensus/schema.ts', import.meta.url), 'utf8'), consensusSchemaSource(readFileSync(consensusProtoPath, 'utf8')))
  })

  it('js-sha3 keccak equals viem keccak256', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => keccakHex(b) === keccak256(b) && bytesToHex(keccakBytes(b)) === keccak256(b)), { numRuns: 200 })
  })

  it('the EIP-712 digest equals viem hashTypedData, and signatures recover with viem', async () => {
    const msgs: QbftMessage[] = [
      makeMessage(MessageKind.proposal, 0n, 0, d1),
      makeMessage(MessageKind.prepare, 7n, 3, d2),
      makeMessage(MessageKind.commit, (1n << 64n) - 1n, 4_000_000 > 1_000_000 ? 1_000_000 : 0, d1),
      makeRoundChange(9n, 2),
      makeRoundChange(9n, 5, { round: 0, digest: d2 }),
    ]
    assert.deepEqual(createDomainSeparator(domain), DOMAIN_SEPARATOR)
    for (const m of msgs) {
      const typed = qbftMessageTypedData(domain, m)
      assert.equal(bytesToHex(qbftMessageDigest(DOMAIN_SEPARATOR, m)), hashTypedData(typed))
      const signed = s(m)
      assert.equal(recoverQbftSigner(DOMAIN_SEPARATOR, signed), k0.address.toLowerCase())
      assert.equal((await recoverTypedDataAddress({ ...typed, signature: bytesToHex(signed.signature) })).toLowerCase(), k0.address.toLowerCase())
    }
  })

  const packets = (): QbftPacket[] => [
    {
      type: 'proposal',
      signed: s(makeMessage(MessageKind.proposal, 3n, 1, d1)),
      value: new Uint8Array([1]),
      roundChangeJustification: [s(makeRoundChange(3n, 1, { round: 0, digest: d1 }), k1), s(makeRoundChange(3n, 1))],
      prepareJustification: [s(makeMessage(MessageKind.prepare, 3n, 0, d1), k1)],
    },
    { type: 'proposal', signed: s(makeMessage(MessageKind.proposal, 3n, 0, d1)), value: new Uint8Array([1]), roundChangeJustification: [], prepareJustification: [] },
    { type: 'prepare', signed: s(makeMessage(MessageKind.prepare, 0n, 0, d2)) },
    { type: 'commit', signed: s(makeMessage(MessageKind.commit, 12n, 2, d2)), commitSeal: new Uint8Array(65).fill(3) },
    { type: 'roundChange', signed: s(makeRoundChange(1n, 1)), prepareJustification: [] },
    {
      type: 'roundChange',
      signed: s(makeRoundChange(1n, 4, { round: 2, digest: d2 })),
      preparedValue: new Uint8Array([2]),
      prepareJustification: [s(makeMessage(MessageKind.prepare, 1n, 2, d2), k1)],
    },
    { type: 'decided', height: 8n, value: new Uint8Array([1]), commits: [{ commit: s(makeMessage(MessageKind.commit, 8n, 0, d1)), seal: new Uint8Array(65).fill(9) }] },
  ]

  it('round-trips every packet type canonically', () => {
    for (const p of packets()) {
      const bytes = encodePacket(p)
      const back = decodePacket(bytes, limits)
      assert.deepEqual(normalise(back), normalise(p), p.type)
      assert.deepEqual(encodePacket(back), bytes)
    }
  })

  it('rejects encodings that break the rules', () => {
    const code = (bytes: Uint8Array) => {
      try {
        decodePacket(bytes, limits)
        return 'ok'
      } catch (e) {
        assert.ok(e instanceof QbftDecodeError)
        return e.code
      }
    }
    const T = consensusProtoTypes.QbftPacket
    const prep = encodePacket(packets()[2])
    const raw = T.decode(prep) as unknown as Record<string, Record<string, unknown>>
    // A zero digest written out as 32 zero bytes instead of the empty string.
    const zero = T.encode({ ...raw, message: { ...raw.message, digest: new Uint8Array(32) } }).finish()
    assert.equal(code(zero), 'MALFORMED')
    // A PREPARE carrying a value, a COMMIT without seal, a short signer.
    assert.equal(code(T.encode({ ...raw, value: new Uint8Array([1]) }).finish()), 'MALFORMED')
    const commit = T.decode(encodePacket(packets()[3])) as unknown as Record<string, unknown>
    assert.equal(code(T.encode({ ...commit, commitSeal: new Uint8Array() }).finish()), 'MALFORMED')
    assert.equal(code(T.encode({ ...raw, message: { ...raw.message, signer: new Uint8Array(19) } }).finish()), 'MALFORMED')
    // A ROUND-CHANGE with a value but not prepared; one for round 0.
    const rc = T.decode(encodePacket(packets()[4])) as unknown as Record<string, Record<string, unknown>>
    assert.equal(code(T.encode({ ...rc, value: new Uint8Array([1]) }).finish()), 'MALFORMED')
    assert.equal(code(T.encode({ ...rc, message: { ...rc.message, round: 0 } }).finish()), 'MALFORMED')
    // Unknown kind, empty input, a trailing unknown field.
    assert.equal(code(T.encode({ ...raw, message: { ...raw.message, kind: 9 } }).finish()), 'MALFORMED')
    assert.equal(code(new Uint8Array()), 'MALFORMED')
    assert.equal(code(new Uint8Array([...prep, 0x78, 0x00])), 'MALFORMED')
    // Limits.
    assert.equal(code(new Uint8Array(limits.maxPacketBytes + 1)), 'OVERSIZED')
    const five = packets()[0] as Extract<QbftPacket, { type: 'proposal' }>
    const many = { ...five, roundChangeJustification: Array(5).fill(five.roundChangeJustification[1]) }
    assert.equal(code(encodePacket(many)), 'TOO_MANY_JUSTIFICATIONS')
  })

  it('refuses to encode bad fields', () => {
    const p = packets()[2] as Extract<QbftPacket, { type: 'prepare' }>
    assert.throws(() => encodePacket({ ...p, signed: { ...p.signed, message: { ...p.signed.message, digest: '0x12' as Hex } } }), QbftEncodeError)
    assert.throws(() => encodePacket({ ...p, signed: { ...p.signed, message: { ...p.signed.message, height: -1n } } }), QbftEncodeError)
    assert.throws(() => encodePacket({ ...p, signed: { ...p.signed, message: { ...p.signed.message, digest: ZERO_DIGEST } } }), QbftEncodeError)
  })

  it('quorum is 2f+1 with f = floor((n-1)/3)', () => {
    const table: [number, number][] = [[1, 1], [2, 1], [3, 1], [4, 3], [5, 3], [6, 3], [7, 5], [10, 7], [16, 11]]
    for (const [n, q] of table) assert.equal(quorumSize(n), q, `n=${n}`)
  })

  it('the leader rotates over the validators sorted by address: sorted[(height + round) mod n]', () => {
    const addrs = Array.from({ length: 4 }, (_, i) => testKey(i).address)
    const set = createValidatorSet([...addrs].reverse())
    const sorted = addrs.map((a) => a.toLowerCase()).sort()
    assert.deepEqual(set.list, sorted)
    assert.equal(leaderOf(set, 0n, 0), sorted[0])
    assert.equal(leaderOf(set, 5n, 0), sorted[1])
    assert.equal(leaderOf(set, 5n, 2), sorted[3])
    assert.equal(leaderOf(set, (1n << 64n) - 1n, 1), sorted[0])
  })

  it('the round timer doubles from the base, capped', () => {
    const o = { roundTimeoutBaseMs: 1000, maxRoundTimeoutMs: 600_000 }
    assert.deepEqual([0, 1, 2, 3, 10, 200].map((r) => roundTimeoutMs(o, r)), [1000, 2000, 4000, 8000, 600_000, 600_000])
  })
})

function normalise(p: QbftPacket): unknown {
  return JSON.parse(JSON.stringify(p, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? bytesToHex(v) : v)))
}
