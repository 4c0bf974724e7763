import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { keccak256, type Address } from 'viem'
import { createNetwork, NetworkConfigError, settlementChains } from '../../../protocol/network.js'
import { schemaFromProto } from '../../../protocol/proto/generate.js'
import {
  MAX_PROPOSAL_VALUE_BYTES,
  ProposalDecodeError,
  buildProposal,
  choosePin,
  decodeProposalValue,
  encodeProposalValue,
  paramsDigest,
  proposalProtoType,
  selectInputs,
  snapshotRef,
  snapshotRefKey,
  verifyProposal,
  type AttestedSnapshot,
  type ProposalValue,
} from '../../../protocol/proposal/index.js'
import { proposalSchema } from '../../../protocol/proposal/schema.js'
import { createOperatorSigner } from '../../../protocol/signing/envelope.js'
import { TEST_KEYS, hexOf } from '../gossip/fixtures.js'
import { CHAIN, defaultWorld, morphoAccount, network, params, signWorld, signers, type World } from './fixtures.js'

const all = (w: World = defaultWorld(), who = signers) => who.flatMap((s) => signWorld(s, w).attested)
const resolver = (snapshots: readonly AttestedSnapshot[]) => {
  const idx = new Map(snapshots.map((a) => [snapshotRefKey(snapshotRef(a)), a]))
  return (r: Parameters<typeof snapshotRefKey>[0]) => idx.get(snapshotRefKey(r))
}
const alice = hexOf('alice', 20).toLowerCase()
const positionOf = (snaps: AttestedSnapshot[], borrower = alice) => selectInputs(snaps, network.f, network).inputs.morphoPositions.find((p) => p.borrower === borrower)

describe('proposal values: the f+1 rule', () => {
  it('one lying operator cannot move an input; its attestation alone does not enter', () => {
    const honest = all(defaultWorld(), signers.slice(0, 3))
    const liar = signWorld(signers[3], defaultWorld(), (s) => {
      s.accounts[0].borrowShares = 1n // alice's debt, forged
      s.accounts.push({ ...morphoAccount('mallory', 2500n) }) // an account nobody else attests
    }).attested
    const sel = selectInputs([...honest, ...liar], network.f, network)
    const a = sel.inputs.morphoPositions.find((p) => p.borrower === alice)!
    assert.equal(a.borrowShares, 2120n * 10n ** 12n)
    assert.equal(sel.inputs.morphoPositions.find((p) => p.borrower === hexOf('mallory', 20).toLowerCase()), undefined)
    assert.ok(sel.excluded.some((e) => e.item.endsWith(hexOf('mallory', 20).toLowerCase()) && e.reason === 'NO_MAJORITY' && e.attesters === 1))
  })

  it('f+1 matching attestations enter; f do not; a tie between two values enters neither', () => {
    assert.ok(positionOf(all(defaultWorld(), signers.slice(0, 2))))
    assert.equal(positionOf(all(defaultWorld(), signers.slice(0, 1))), undefined)
    const lie = (s: (typeof signers)[number]) => signWorld(s, defaultWorld(), (h) => (h.accounts[0].collateral = 5n)).attested
    const tied = [...all(defaultWorld(), signers.slice(0, 2)), ...lie(signers[2]), ...lie(signers[3])]
    assert.equal(positionOf(tied), undefined)
  })

  it('an operator reporting two values for one item loses its vote', () => {
    const w = defaultWorld()
    const twice = [...signWorld(signers[0], w).attested, ...signWorld(signers[0], w, (h) => (h.accounts[0].collateral = 7n)).attested, ...signWorld(signers[1], w).attested]
    assert.equal(positionOf(twice), undefined)
  })

  it('is deterministic: the order of the snapshots does not matter', () => {
    const snaps = all()
    const a = JSON.stringify(selectInputs(snaps, 1, network), (_, v) => (typeof v === 'bigint' ? v.toString() : v))
    fc.assert(
      fc.property(fc.shuffledSubarray(snaps, { minLength: snaps.length, maxLength: snaps.length }), (s) => JSON.stringify(selectInputs(s, 1, network), (_, v) => (typeof v === 'bigint' ? v.toString() : v)) === a),
      { numRuns: 30 },
    )
  })
})

describe('proposal values: pinning', () => {
  const at = (block: bigint, who: typeof signers, ts = 1_700_000_000n + block) => all({ ...defaultWorld(), block, blockHash: hexOf(`block/${block}`, 32), timestamp: ts }, who)
  it('pins the newest block a quorum (2f+1) covers, with every covering operator', () => {
    const chain = network.chains[0]
    const snaps = [...at(100n, signers), ...at(101n, signers.slice(0, 2))]
    const p = choosePin(chain, snaps, network.quorum)!
    assert.equal(p.pin.blockNumber, 100n)
    assert.equal(new Set(p.snapshots.map((s) => s.operator)).size, 4)
    const q = choosePin(chain, [...snaps, ...at(101n, signers.slice(2, 3))], network.quorum)!
    assert.equal(q.pin.blockNumber, 101n)
    assert.equal(q.pin.timestamp, 1_700_000_101n)
    assert.equal(choosePin(chain, at(102n, signers.slice(0, 2)), network.quorum), undefined)
  })

  it('an operator missing a scope does not cover the block; one lying about the timestamp is left out', () => {
    const chain = network.chains[0]
    const partial = at(100n, signers.slice(0, 1)).filter((s) => s.kind === 1) // no pair snapshot
    assert.equal(choosePin(chain, [...partial, ...at(100n, signers.slice(1, 3))], network.quorum), undefined)
    const lying = at(100n, signers.slice(3), 1n)
    const p = choosePin(chain, [...at(100n, signers.slice(0, 3)), ...lying], network.quorum)!
    assert.equal(p.pin.timestamp, 1_700_000_100n)
    assert.ok(!p.snapshots.some((s) => s.operator === signers[3].address.toLowerCase()))
  })
})

describe('proposal values: build and verify', () => {
  const snaps = all()
  const built = buildProposal(7n, snaps, network, params)!
  const resolve = resolver(snaps)

  it('the leader builds a value whose plan liquidates the liquidatable account only; a follower accepts it', () => {
    assert.ok(built)
    assert.equal(built.value.settlementPlan.legs.length, 1)
    assert.equal(built.value.settlementPlan.legs[0].borrower.toLowerCase(), alice)
    assert.equal(built.value.settlementPlan.legs[0].deadline, 1_700_000_000n + params.legTtlSeconds)
    assert.equal(built.value.snapshots.length, 12)
    const res = verifyProposal(decodeProposalValue(encodeProposalValue(built.value)), 7n, network, params, resolve)
    assert.equal(res.ok, true)
  })

  it('nothing to liquidate: no value', () => {
    const w = { ...defaultWorld(), accounts: [morphoAccount('bob', 2000n)] }
    assert.equal(buildProposal(7n, all(w), network, params), undefined)
  })

  const refusal = (v: ProposalValue, r = resolve, height = 7n, p = params) => {
    const res = verifyProposal(v, height, network, p, r)
    return res.ok ? 'ok' : res.reason
  }

  it('refuses a value whose plan does not match its inputs, with a reason', () => {
    assert.equal(refusal({ ...built.value, planHash: keccak256('0x01') }), 'PLAN_MISMATCH')
    const legs = built.value.settlementPlan.legs.map((l) => ({ ...l, repaidShares: l.repaidShares + 1n }))
    assert.equal(refusal({ ...built.value, settlementPlan: { ...built.value.settlementPlan, legs } }), 'SETTLEMENT_MISMATCH')
    assert.equal(refusal(built.value, resolve, 8n), 'WRONG_HEIGHT')
    assert.equal(refusal(built.value, resolve, 7n, { ...params, maxLegs: 5 }), 'PARAMS_MISMATCH')
  })

  it('refuses tampered, missing, foreign or too few snapshots', () => {
    // A snapshot whose content differs from the referenced digest (tampered).
    const tampered = signWorld(signers[1], defaultWorld(), (h) => (h.accounts[0].collateral = 9n)).attested
    const r1 = resolver([...snaps.filter((s) => s.operator !== signers[1].address.toLowerCase()), ...tampered])
    assert.equal(refusal(built.value, r1), 'SNAPSHOT_MISMATCH')
    // Missing.
    assert.equal(refusal(built.value, () => undefined), 'SNAPSHOT_MISSING')
    // Signed by someone outside the operator set.
    const outsider = createOperatorSigner(TEST_KEYS[9])
    const foreign = signWorld(outsider, defaultWorld()).attested
    const v = { ...built.value, snapshots: [...built.value.snapshots, ...foreign.map(snapshotRef)] }
    assert.equal(refusal(v, resolver([...snaps, ...foreign])), 'UNKNOWN_SIGNER')
    // Only two operators referenced (quorum 3): a leader could censor.
    const two = built.value.snapshots.filter((r) => r.operator !== signers[2].address.toLowerCase() && r.operator !== signers[3].address.toLowerCase())
    assert.equal(refusal({ ...built.value, snapshots: two }), 'NO_QUORUM')
    // An operator referenced for one scope only.
    const partial = built.value.snapshots.filter((r) => !(r.operator === signers[3].address.toLowerCase() && r.kind === 2))
    assert.equal(refusal({ ...built.value, snapshots: partial }), 'INCOMPLETE')
    // A pin that is not where the snapshots are.
    assert.equal(refusal({ ...built.value, pins: [{ ...built.value.pins[0], timestamp: 5n }] }), 'PIN_MISMATCH')
    assert.equal(refusal({ ...built.value, pins: [{ ...built.value.pins[0], chainId: 999 }] }), 'UNKNOWN_CHAIN')
  })

  it('planner parameters are named by a digest that ignores deadlineBase', () => {
    assert.equal(paramsDigest(params), paramsDigest({ ...params, deadlineBase: 123n }))
    assert.notEqual(paramsDigest(params), paramsDigest({ ...params, maxSlippageBps: 301n }))
  })
})

describe('proposal values: codec', () => {
  const value = buildProposal(7n, all(), network, params)!.value

  it('schema.ts is generated from proposal.proto', () => {
    const proto = readFileSync(new URL('../../../protocol/proto/proposal.proto', import.meta.url), 'utf8')
    assert.deepEqual(JSON.parse(JSON.stringify(schemaFromProto(proto))), JSON.parse(JSON.stringify(proposalSchema)), 'run `npx tsx protocol/proposal/generate.ts`')
  })

  it('round-trips canonically and is small', () => {
    const bytes = encodeProposalValue(value)
    const back = decodeProposalValue(bytes)
    assert.deepEqual(encodeProposalValue(back), bytes)
    assert.deepEqual(back.snapshots, value.snapshots)
    assert.equal(back.planHash, value.planHash)
    assert.ok(bytes.length < 4096, `${bytes.length} bytes`)
    assert.ok(bytes.length <= MAX_PROPOSAL_VALUE_BYTES)
  })

  it('rejects non-canonical encodings and broken rules with a code', () => {
    const bytes = encodeProposalValue(value)
    const code = (b: Uint8Array) => {
      try {
        decodeProposalValue(b)
        return 'ok'
      } catch (e) {
        assert.ok(e instanceof ProposalDecodeError, String(e))
        return e.code
      }
    }
    assert.equal(code(Uint8Array.from([...bytes, 0x78, 0x01])), 'NON_CANONICAL') // unknown field 15
    const m = proposalProtoType.decode(bytes) as unknown as { snapshots: unknown[]; version: number }
    m.snapshots.reverse()
    assert.equal(code(proposalProtoType.encode(m as never).finish()), 'INVALID_FIELD')
    m.snapshots.reverse()
    m.version = 2
    assert.equal(code(proposalProtoType.encode(m as never).finish()), 'INVALID_FIELD')
    assert.equal(code(new Uint8Array(MAX_PROPOSAL_VALUE_BYTES + 1)), 'OVERSIZED')
  })

  it('fuzz: random and mutated bytes never crash the decoder (only ProposalDecodeError)', () => {
    const seed = encodeProposalValue(value)
    const check = (b: Uint8Array) => {
      try {
        const v = decodeProposalValue(b)
        // Whatever decodes re-encodes to the same bytes.
        assert.deepEqual(encodeProposalValue(v), b)
      } catch (e) {
        if (!(e instanceof ProposalDecodeError)) throw e
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => check(b)), { numRuns: 1000 })
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (ops) => {
        const b = seed.slice()
        for (const [p, v] of ops) b[p] = v
        check(b)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('network description', () => {
  it('computes f and the quorum, sorts operators, maps settlement chains', () => {
    assert.equal(network.f, 1)
    assert.equal(network.quorum, 3)
    assert.deepEqual(network.operators, [...network.operators].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)))
    assert.deepEqual(settlementChains(network)[0].eid, 40101)
    assert.equal(settlementChains(network)[0].chainId, CHAIN)
  })
  it('refuses duplicates and bad fields, naming them', () => {
    const base = { hub: network.hub, operators: network.operators as Address[], chains: network.chains }
    assert.throws(() => createNetwork({ ...base, operators: [network.operators[0], network.operators[0]] }), NetworkConfigError)
    assert.throws(() => createNetwork({ ...base, chains: [network.chains[0], network.chains[0]] }), /chain id 31101 listed twice/)
    assert.throws(() => createNetwork({ ...base, hub: { chainId: 1, address: '0x12' as Address } }), /hub.address/)
  })
})
