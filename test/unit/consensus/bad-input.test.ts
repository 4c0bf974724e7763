/**
 * One node under test, fed hand-made messages from the other validators' keys: every bad input
 * gets a counted rejection (or ignore) with its reason, never a throw, never a signature from
 * this node, never a change of a decision.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { type Address, type Hex } from 'viem'
import {
  MessageKind,
  QbftConfigError,
  QbftStartError,
  ZERO_DIGEST,
  createKeySign,
  createQbft,
  createValidatorSet,
  encodePacket,
  keccakValueDigest,
  leaderOf,
  makeMessage,
  makeRoundChange,
  signQbftMessage,
  type Decision,
  type Qbft,
  type QbftPacket,
  type QbftSignFn,
  type SignedQbftMessage,
} from '../../../protocol/consensus/index.js'
import { DOMAIN_SEPARATOR, honestValue, isValidValue, testKey, testSealer } from './harness.js'

const N = 4
const keys = Array.from({ length: N }, (_, i) => testKey(i))
const outsider = testKey(99)
const vset = createValidatorSet(keys.map((k) => k.address))
const byAddress = new Map(keys.map((k) => [k.address.toLowerCase(), k]))
const H = 5n
/** The node under test: a validator that does not lead (height 5, rounds 0 and 1). */
const self = keys.find((k) => {
  const a = k.address.toLowerCase()
  return a !== leaderOf(vset, H, 0) && a !== leaderOf(vset, H, 1)
})!
const others = keys.filter((k) => k !== self)
const keyOf = (a: Address) => byAddress.get(a)!

function sign(m: Parameters<typeof signQbftMessage>[1], k = keyOf(leaderOf(vset, m.height, m.round))): SignedQbftMessage {
  return signQbftMessage(DOMAIN_SEPARATOR, m, k.privateKey, k.address)
}

type Harness = {
  node: Qbft
  sent: QbftPacket[]
  decisions: Decision[]
  fire(): void
}

function makeNode(opts: { sign?: QbftSignFn; start?: boolean; maxValueBytes?: number } = {}): Harness {
  const sent: QbftPacket[] = []
  const decisions: Decision[] = []
  const timers: (() => void)[] = []
  const node = createQbft({
    self: self.address,
    validators: keys.map((k) => k.address),
    domainSeparator: DOMAIN_SEPARATOR,
    sign: opts.sign ?? createKeySign(self.privateKey),
    sealer: testSealer(self),
    validateValue: async (h, v) => (isValidValue(h, v) ? { ok: true } : { ok: false, reason: 'plan-mismatch' }),
    transport: { broadcast: (p) => void sent.push(p) },
    timers: { start: (_ms, cb) => (timers.push(cb), { cancel: () => {} }) },
    clock: { now: () => 0 },
    firstHeight: H,
    options: opts.maxValueBytes ? { maxValueBytes: opts.maxValueBytes } : {},
    onDecide: (d) => void decisions.push(d),
  })
  if (opts.start !== false) node.start(H, { value: honestValue(H, 0, 0) })
  return { node, sent, decisions, fire: () => timers.splice(0).forEach((cb) => cb()) }
}

const settle = () => new Promise<void>((r) => setImmediate(r))
const value = honestValue(H, 1, 0)
const digest = keccakValueDigest(value)

function proposal(round = 0, v = value, extra: Partial<Extract<QbftPacket, { type: 'proposal' }>> = {}): QbftPacket {
  return {
    type: 'proposal',
    signed: sign(makeMessage(MessageKind.proposal, H, round, keccakValueDigest(v))),
    value: v,
    roundChangeJustification: [],
    prepareJustification: [],
    ...extra,
  }
}
const prepare = (k = others[0], d: Hex = digest, h = H, round = 0): Extract<QbftPacket, { type: 'prepare' }> => ({
  type: 'prepare',
  signed: sign(makeMessage(MessageKind.prepare, h, round, d), k),
})

describe('consensus: bad input is rejected with a reason, never thrown', () => {
  it('unknown signer', async () => {
    const { node } = makeNode()
    const out = await node.receive(encodePacket(prepare(outsider)))
    assert.deepEqual(out, { status: 'rejected', reason: 'UNKNOWN_SIGNER' })
    assert.equal(node.stats().rejected.UNKNOWN_SIGNER, 1)
  })

  it('forged signature (signed by another key, claimed by a validator) and a flipped signature byte', async () => {
    const { node } = makeNode()
    const forged: QbftPacket = { type: 'prepare', signed: { ...prepare(outsider).signed, signer: others[0].address.toLowerCase() as Address } }
    assert.deepEqual(await node.receive(encodePacket(forged)), { status: 'rejected', reason: 'BAD_SIGNATURE' })
    const p = prepare(others[1])
    const sig = new Uint8Array(p.type === 'prepare' ? p.signed.signature : [])
    sig[5] ^= 1
    const flipped = { ...p, signed: { ...(p as { signed: SignedQbftMessage }).signed, signature: sig } } as QbftPacket
    assert.deepEqual(await node.receive(flipped), { status: 'rejected', reason: 'BAD_SIGNATURE' })
  })

  it('old and far-future heights', async () => {
    const { node } = makeNode()
    assert.deepEqual(await node.receive(encodePacket(prepare(others[0], digest, H - 1n))), { status: 'ignored', reason: 'OLD_HEIGHT' })
    assert.deepEqual(await node.receive(encodePacket(prepare(others[0], digest, H + 3n))), { status: 'rejected', reason: 'FUTURE_HEIGHT' })
    assert.deepEqual(await node.receive(encodePacket(prepare(others[0], digest, H + 2n))), { status: 'buffered' })
  })

  it('buffers a near-future proposal and replays it when the height starts', async () => {
    const { node, sent } = makeNode({ start: false })
    assert.deepEqual(await node.receive(encodePacket(proposal())), { status: 'buffered' })
    assert.equal(sent.length, 0)
    node.start(H, { value: honestValue(H, 0, 0) })
    await settle()
    assert.ok(sent.some((p) => p.type === 'prepare' && p.signed.message.digest === digest), 'PREPARE sent after replay')
  })

  it('bounds the future-height buffer per signer', async () => {
    const { node } = makeNode()
    const outs = []
    for (let r = 0; r < 40; r++) outs.push(await node.receive(encodePacket(prepare(others[0], digest, H + 1n, r))))
    assert.equal(outs.filter((o) => o.status === 'buffered').length, 32)
    assert.deepEqual(outs[39], { status: 'ignored', reason: 'BUFFER_FULL' })
  })

  it('oversized justification lists, packets and values', async () => {
    const { node } = makeNode({ maxValueBytes: 1024 })
    const many = Array.from({ length: N + 1 }, () => sign(makeRoundChange(H, 1), others[0]))
    const p = proposal(1, value, { roundChangeJustification: many })
    assert.deepEqual(await node.receive(encodePacket(p)), { status: 'rejected', reason: 'TOO_MANY_JUSTIFICATIONS' })
    const big = new Uint8Array(2048).fill(1)
    assert.deepEqual(await node.receive(encodePacket(proposal(0, big))), { status: 'rejected', reason: 'OVERSIZED' })
    const huge = new Uint8Array(1024 + 90 * 1024)
    assert.deepEqual(await node.receive(huge), { status: 'rejected', reason: 'OVERSIZED' })
  })

  it('an invalid value gets no PREPARE', async () => {
    const { node, sent } = makeNode()
    const bad = new TextEncoder().encode('bad:plan')
    assert.deepEqual(await node.receive(encodePacket(proposal(0, bad))), { status: 'rejected', reason: 'INVALID_VALUE' })
    await settle()
    assert.equal(sent.filter((p) => p.type === 'prepare').length, 0)
  })

  it('wrong leader, digest mismatch, missing and invalid justifications', async () => {
    const { node, sent } = makeNode()
    const notLeader = others.find((k) => k.address.toLowerCase() !== leaderOf(vset, H, 0))!
    const wl: QbftPacket = { ...(proposal() as Extract<QbftPacket, { type: 'proposal' }>), signed: sign(makeMessage(MessageKind.proposal, H, 0, digest), notLeader) }
    assert.deepEqual(await node.receive(wl), { status: 'rejected', reason: 'WRONG_LEADER' })
    const mism = { ...(proposal() as Extract<QbftPacket, { type: 'proposal' }>), value: honestValue(H, 2, 0) }
    assert.deepEqual(await node.receive(mism), { status: 'rejected', reason: 'DIGEST_MISMATCH' })
    // Round 1 proposal with only two ROUND-CHANGEs (quorum is 3).
    const two = others.slice(0, 2).map((k) => sign(makeRoundChange(H, 1), k))
    assert.deepEqual(await node.receive(proposal(1, value, { roundChangeJustification: two })), { status: 'rejected', reason: 'INVALID_JUSTIFICATION' })
    // Round 1 proposal with a quorum of ROUND-CHANGEs, one of them signed twice by the same validator.
    const dup = [sign(makeRoundChange(H, 1), others[0]), sign(makeRoundChange(H, 1), others[0]), sign(makeRoundChange(H, 1), others[1])]
    assert.deepEqual(await node.receive(proposal(1, value, { roundChangeJustification: dup })), { status: 'rejected', reason: 'INVALID_JUSTIFICATION' })
    // A ROUND-CHANGE claiming a prepared value without a valid PREPARE quorum.
    const rc: QbftPacket = {
      type: 'roundChange',
      signed: sign(makeRoundChange(H, 1, { round: 0, digest }), others[0]),
      preparedValue: value,
      prepareJustification: [prepare(others[0]), prepare(others[1])].map((p) => (p as { signed: SignedQbftMessage }).signed),
    }
    assert.deepEqual(await node.receive(rc), { status: 'rejected', reason: 'INVALID_JUSTIFICATION' })
    // Round 1 proposal ignoring a prepared ROUND-CHANGE in its justification (J2 broken).
    const preps = others.map((k) => (prepare(k) as { signed: SignedQbftMessage }).signed)
    const rcs = [sign(makeRoundChange(H, 1, { round: 0, digest }), others[0]), sign(makeRoundChange(H, 1), others[1]), sign(makeRoundChange(H, 1), others[2])]
    const other = honestValue(H, 3, 1)
    assert.deepEqual(
      await node.receive(proposal(1, other, { roundChangeJustification: rcs, prepareJustification: preps })),
      { status: 'rejected', reason: 'INVALID_JUSTIFICATION' },
    )
    // The same justification with the prepared value is accepted: the node moves to round 1 and prepares.
    assert.deepEqual(await node.receive(proposal(1, value, { roundChangeJustification: rcs, prepareJustification: preps })), { status: 'accepted' })
    await settle()
    assert.equal(node.round, 1)
    assert.ok(sent.some((p) => p.type === 'prepare' && p.signed.message.round === 1))
  })

  it('duplicates are ignored and equivocations rejected', async () => {
    const { node } = makeNode()
    assert.deepEqual(await node.receive(encodePacket(proposal())), { status: 'accepted' })
    assert.deepEqual(await node.receive(encodePacket(proposal())), { status: 'ignored', reason: 'DUPLICATE' })
    assert.deepEqual(await node.receive(encodePacket(proposal(0, honestValue(H, 1, 7)))), { status: 'rejected', reason: 'EQUIVOCATION' })
    assert.deepEqual(await node.receive(encodePacket(prepare(others[0]))), { status: 'accepted' })
    assert.deepEqual(await node.receive(encodePacket(prepare(others[0]))), { status: 'ignored', reason: 'DUPLICATE' })
    assert.deepEqual(await node.receive(encodePacket(prepare(others[0], keccakValueDigest(honestValue(H, 9, 9))))), { status: 'rejected', reason: 'EQUIVOCATION' })
  })

  it('decides on a quorum of sealed commits; later conflicting input never changes the decision', async () => {
    const { node, decisions } = makeNode()
    await node.receive(encodePacket(proposal()))
    for (const k of others) await node.receive(encodePacket(prepare(k)))
    const commit = (k: typeof self, d: Hex, v: Uint8Array): Promise<QbftPacket> =>
      testSealer(k).seal(H, v).then((commitSeal) => ({ type: 'commit', signed: sign(makeMessage(MessageKind.commit, H, 0, d), k), commitSeal }))
    // A commit with a seal over another value is rejected (the value is known here).
    const wrongSeal = await commit(others[0], digest, honestValue(H, 4, 4))
    assert.deepEqual(await node.receive(wrongSeal), { status: 'rejected', reason: 'INVALID_SEAL' })
    for (const k of others.slice(0, 2)) assert.deepEqual(await node.receive(await commit(k, digest, value)), { status: 'accepted' })
    await settle()
    assert.equal(decisions.length, 1)
    const d = decisions[0]
    assert.equal(d.digest, digest)
    assert.ok(d.seals.length >= vset.quorum)
    // Conflicting commits and a forged certificate for the decided height change nothing.
    const other = honestValue(H, 2, 2)
    const od = keccakValueDigest(other)
    for (const k of others) assert.equal((await node.receive(await commit(k, od, other))).status, 'ignored')
    const cert: QbftPacket = { type: 'decided', height: H, value: other, commits: await Promise.all(others.map(async (k) => ({ commit: sign(makeMessage(MessageKind.commit, H, 0, od), k), seal: await testSealer(k).seal(H, other) }))) }
    assert.deepEqual(await node.receive(cert), { status: 'ignored', reason: 'OLD_HEIGHT' })
    assert.equal(decisions.length, 1)
    assert.equal(node.decision(H)?.digest, digest)
  })

  it('a DECIDED certificate with a bad seal or too few commits is rejected', async () => {
    const { node, decisions } = makeNode()
    const commits = await Promise.all(others.map(async (k) => ({ commit: sign(makeMessage(MessageKind.commit, H, 0, digest), k), seal: await testSealer(k).seal(H, value) })))
    const badSeal = commits.map((c, i) => (i === 0 ? { ...c, seal: commits[1].seal } : c))
    assert.deepEqual(await node.receive({ type: 'decided', height: H, value, commits: badSeal }), { status: 'rejected', reason: 'INVALID_SEAL' })
    assert.deepEqual(await node.receive({ type: 'decided', height: H, value, commits: commits.slice(0, 2) }), { status: 'rejected', reason: 'INVALID_JUSTIFICATION' })
    assert.equal(decisions.length, 0)
    assert.deepEqual(await node.receive({ type: 'decided', height: H, value, commits }), { status: 'accepted' })
    assert.equal(decisions.length, 1)
  })

  it('a refusal of the signing protection is counted and nothing is sent', async () => {
    const { node, sent } = makeNode({ sign: async () => ({ ok: false, reason: 'conflict' }) })
    assert.deepEqual(await node.receive(encodePacket(proposal())), { status: 'accepted' })
    await settle()
    assert.equal(sent.length, 0)
    assert.equal(node.stats().signRefused, 1)
  })

  it('a signer that throws counts as a refusal', async () => {
    const { node, sent, fire } = makeNode({ sign: async () => Promise.reject(new Error('disk full')) })
    fire() // round 0 expires: the ROUND-CHANGE cannot be signed
    await settle()
    assert.equal(sent.length, 0)
    assert.equal(node.stats().signRefused, 1)
    assert.equal(node.stats().timeouts, 1)
  })

  it('non-canonical bytes are MALFORMED', async () => {
    const { node } = makeNode()
    const bytes = encodePacket(prepare())
    const withUnknownField = new Uint8Array([...bytes, 0x78, 0x01]) // field 15, varint 1
    assert.deepEqual(await node.receive(withUnknownField), { status: 'rejected', reason: 'MALFORMED' })
    assert.deepEqual(await node.receive(new Uint8Array([0xff, 0xff, 0xff])), { status: 'rejected', reason: 'MALFORMED' })
    assert.deepEqual(await node.receive({ type: 'prepare', signed: { ...(prepare() as { signed: SignedQbftMessage }).signed, signature: new Uint8Array(3) } }), {
      status: 'rejected',
      reason: 'MALFORMED',
    })
    assert.deepEqual(await node.receive('junk' as unknown as Uint8Array), { status: 'rejected', reason: 'MALFORMED' })
  })

  it('random bytes and mutated packets never throw, never make it sign or decide', async () => {
    const { node, sent, decisions } = makeNode()
    const seeds = [encodePacket(proposal()), encodePacket(prepare()), encodePacket(await Promise.resolve(prepare(others[1])))]
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
        const c = new Uint8Array(b)
        c[i % c.length] ^= x
        return c
      })), async (bytes) => {
        const out = await node.receive(bytes)
        assert.ok(out.status === 'rejected' || out.status === 'ignored' || out.status === 'accepted' || out.status === 'buffered')
      }),
      { numRuns: 500 },
    )
    await settle()
    assert.equal(decisions.length, 0)
    // It may have prepared the one genuine proposal, nothing else.
    assert.ok(sent.every((p) => p.type === 'prepare' && p.signed.message.digest === digest))
  })

  it('stop() makes later input ignored', async () => {
    const { node } = makeNode()
    node.stop()
    assert.deepEqual(await node.receive(encodePacket(prepare())), { status: 'ignored', reason: 'NOT_STARTED' })
  })

  it('configuration and start errors are typed', () => {
    const base = {
      validators: keys.map((k) => k.address),
      domainSeparator: DOMAIN_SEPARATOR,
      sign: createKeySign(self.privateKey),
      sealer: testSealer(self),
      validateValue: async () => ({ ok: true as const }),
      transport: { broadcast: () => {} },
      timers: { start: () => ({ cancel: () => {} }) },
      clock: { now: () => 0 },
      onDecide: () => {},
    }
    assert.throws(() => createQbft({ ...base, self: outsider.address }), QbftConfigError)
    assert.throws(() => createQbft({ ...base, self: self.address, validators: [self.address, self.address] }), QbftConfigError)
    assert.throws(() => createQbft({ ...base, self: self.address, domainSeparator: new Uint8Array(3) }), QbftConfigError)
    assert.throws(() => createQbft({ ...base, self: self.address, options: { roundTimeoutBaseMs: 0 } }), QbftConfigError)
    const node = createQbft({ ...base, self: self.address, firstHeight: 3n })
    assert.throws(() => node.start(2n, { value: new Uint8Array([1]) }), QbftStartError)
    assert.throws(() => node.start(3n, { value: new Uint8Array() }), QbftStartError)
    node.start(3n, { value: new Uint8Array([1]) })
    assert.throws(() => node.start(3n, { value: new Uint8Array([1]) }), QbftStartError)
    node.stop()
    assert.equal(ZERO_DIGEST.length, 66)
  })
})
