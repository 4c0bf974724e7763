import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  WireDecodeError,
  decodeHealthSnapshot,
  decodeHealthSnapshotReference,
  encodeHealthSnapshot,
  healthSnapshotFromWire,
  healthSnapshotToWire,
  protoTypes,
} from '../../../protocol/proto/codec.js'
import { createDomainSeparator, healthSnapshotDigest, healthSnapshotTypedData } from '../../../protocol/signing/eip712.js'
import { hashTypedData, bytesToHex } from 'viem'
import { makeAaveHealthSnapshot, makeHealthSnapshot } from '../gossip/fixtures.js'

const outcome = (f: typeof decodeHealthSnapshot, b: Uint8Array) => {
  try {
    return JSON.stringify(healthSnapshotFromWire(f(b)), (_, v) => (typeof v === 'bigint' ? v.toString() : v))
  } catch (e) {
    if (!(e instanceof WireDecodeError)) throw e
    return 'error'
  }
}

describe('health snapshots: planner fields (block timestamp, market state, borrow shares, Aave balances)', () => {
  it('round-trip Morpho and Aave snapshots with their planner fields', () => {
    for (const s of [makeHealthSnapshot({ n: 4 }), makeAaveHealthSnapshot({ n: 4 })]) {
      const back = healthSnapshotFromWire(decodeHealthSnapshot(encodeHealthSnapshot(s)))
      const sorted = (x: typeof s) => ({ ...x, accounts: [...x.accounts].sort((a, b) => (a.borrower < b.borrower ? -1 : 1)), aaveReserves: [...(x.aaveReserves ?? [])].sort((a, b) => (a.asset < b.asset ? -1 : 1)) })
      const norm = (x: typeof s) => JSON.stringify(sorted(x), (_, v) => (typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v.toLowerCase() : v))
      assert.equal(norm(back), norm(s))
    }
  })

  it('the EIP-712 digest equals viem hashTypedData and covers every planner field', () => {
    const sep = createDomainSeparator({ chainId: 1, verifyingContract: '0x00000000000000000000000000000000000000b0' })
    for (const s of [healthSnapshotToWire(makeHealthSnapshot({ n: 3 })), healthSnapshotToWire(makeAaveHealthSnapshot({ n: 3 }))]) {
      const d = bytesToHex(healthSnapshotDigest(sep, s))
      assert.equal(d, hashTypedData(healthSnapshotTypedData({ chainId: 1, verifyingContract: '0x00000000000000000000000000000000000000b0' }, s)))
      const changed = [
        { ...s, blockTimestamp: (s.blockTimestamp ?? 0) + 1 },
        { ...s, aaveReserves: (s.aaveReserves ?? []).map((r, i) => (i === 0 ? { ...r, liquidationBonusBps: r.liquidationBonusBps + 1 } : r)) },
        { ...s, morpho: s.morpho ? { ...s.morpho, oraclePrice: Uint8Array.of(7) } : undefined },
        { ...s, accounts: s.accounts.map((a, i) => (i === 0 ? { ...a, borrowShares: Uint8Array.of(9), balances: (a.balances ?? []).map((b) => ({ ...b, debt: Uint8Array.of(3) })) } : a)) },
      ]
      for (const c of changed) if (JSON.stringify(c, (_, v) => (v instanceof Uint8Array ? bytesToHex(v) : v)) !== JSON.stringify(s, (_, v) => (v instanceof Uint8Array ? bytesToHex(v) : v))) assert.notEqual(bytesToHex(healthSnapshotDigest(sep, c as never)), d)
    }
  })

  it('rejects protocol-mismatched fields, unsorted reserves and balances naming no reserve', () => {
    const aave = healthSnapshotToWire(makeAaveHealthSnapshot({ n: 2 }))
    const cases: [string, (s: typeof aave) => void, string][] = [
      ['shares on Aave', (s) => (s.accounts[0].borrowShares = Uint8Array.of(1)), 'borrowShares'],
      ['reserve index out of range', (s) => (s.accounts[0].balances = [{ reserve: 5, collateral: Uint8Array.of(1), debt: new Uint8Array(0) }]), 'balances'],
      ['unsorted reserves', (s) => s.aaveReserves!.reverse(), 'aaveReserves'],
      ['unsorted balances', (s) => s.accounts[0].balances!.reverse(), 'balances'],
      ['bps above 16 bits', (s) => (s.aaveReserves![0].liquidationBonusBps = 70_000), 'liquidationBonusBps'],
    ]
    for (const [label, mutate, field] of cases) {
      const s = healthSnapshotToWire(makeAaveHealthSnapshot({ n: 2 }))
      mutate(s)
      const bytes = protoTypes.HealthSnapshot.encode(s).finish()
      for (const decode of [decodeHealthSnapshot, decodeHealthSnapshotReference])
        assert.throws(() => decode(bytes), (e: unknown) => e instanceof WireDecodeError && e.field === field, `${label} (${decode.name})`)
    }
    const morpho = healthSnapshotToWire(makeHealthSnapshot({ n: 1 }))
    morpho.aaveReserves = aave.aaveReserves
    assert.throws(() => decodeHealthSnapshot(protoTypes.HealthSnapshot.encode(morpho).finish()), (e: unknown) => e instanceof WireDecodeError && e.field === 'aaveReserves')
  })

  it('fuzz: the fast decoder and the reference decoder agree on mutated Morpho and Aave snapshots', () => {
    for (const seed of [encodeHealthSnapshot(makeHealthSnapshot({ n: 3 })), encodeHealthSnapshot(makeAaveHealthSnapshot({ n: 3 }))]) {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (ops) => {
          const b = seed.slice()
          for (const [p, v] of ops) b[p] = v
          assert.equal(outcome(decodeHealthSnapshot, b), outcome(decodeHealthSnapshotReference, b))
        }),
        { numRuns: 2000 },
      )
    }
  })
})
