import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBytes, keccak256 } from 'viem'
import { createConsensusValues, type SnapshotFetcher } from '../../../node/consensus/values.js'
import { Store, type AcceptedSnapshot } from '../../../node/store/store.js'
import { decodeEnvelope } from '../../../protocol/proto/codec.js'
import { decodeProposalValue, encodeProposalValue } from '../../../protocol/proposal/index.js'
import { settlementPlanDigest } from '../../../protocol/settlement/plan.js'
import { attest, defaultWorld, network, params, sep, signWorld, signers } from './fixtures.js'

function accepted(bytes: Uint8Array): AcceptedSnapshot {
  const env = decodeEnvelope(bytes)
  const a = attest(bytes)
  return {
    kind: a.kind,
    snapshot: a.snapshot,
    updatesLatest: true,
    record: { kind: a.kind, observedAt: 1_700_000_000_000, receivedAt: 1_700_000_000_001, digest: hexToBytes(a.digest), operator: env.signer, envelope: bytes },
  } as AcceptedSnapshot
}

describe('consensus values over the level store', function () {
  this.timeout(20_000)
  const dirs: string[] = []
  const stores: Store[] = []
  const open = async (envelopes: Uint8Array[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'liqnet-values-'))
    dirs.push(dir)
    const store = new Store({ path: dir })
    await store.open()
    stores.push(store)
    await store.writeAccepted(envelopes.map(accepted))
    return store
  }
  after(async () => {
    for (const s of stores) await s.close()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  const envelopes = signers.flatMap((s) => signWorld(s, defaultWorld()).bytes)

  it('the leader builds from its store; a follower missing a snapshot fetches it and accepts; tampering is refused', async () => {
    const leaderStore = await open(envelopes)
    const leader = createConsensusValues({ store: leaderStore, network, params, domainSeparator: sep })
    const value = await leader.buildValue(3n)
    assert.ok(value)
    const v = decodeProposalValue(value)
    assert.equal(v.snapshots.length, 12)
    assert.equal(leader.valueDigest(value), keccak256(value))
    assert.equal(settlementPlanDigest(leader.settlementPlan(value)), settlementPlanDigest(v.settlementPlan))

    // The follower lacks operator 2's Morpho snapshot (index 6 = operator 2's first envelope).
    const followerStore = await open(envelopes.filter((_, i) => i !== 6))
    let asked = 0
    const fetcher: SnapshotFetcher = {
      async fetch(keys) {
        asked += keys.length
        return Promise.all(keys.map(async (k) => (await leaderStore.history.get(k.kind, k.chainId, hexToBytes(k.scope), Number(k.blockNumber), k.part, hexToBytes(k.operator)))?.envelope))
      },
    }
    const follower = createConsensusValues({ store: followerStore, network, params, domainSeparator: sep, fetcher, missingWaitMs: 100 })
    assert.deepEqual(await follower.validateValue(3n, value), { ok: true })
    assert.equal(asked, 1)

    const blind = createConsensusValues({ store: followerStore, network, params, domainSeparator: sep, missingWaitMs: 100 })
    assert.deepEqual(await blind.validateValue(3n, value), { ok: false, reason: 'SNAPSHOT_MISSING' })
    assert.deepEqual(await follower.validateValue(4n, value), { ok: false, reason: 'WRONG_HEIGHT' })
    const forged = encodeProposalValue({ ...v, planHash: keccak256('0x02') })
    assert.deepEqual(await follower.validateValue(3n, forged), { ok: false, reason: 'PLAN_MISMATCH' })
    assert.deepEqual(await follower.validateValue(3n, Uint8Array.of(1, 2, 3)), { ok: false, reason: 'MALFORMED' })
    assert.equal(follower.refusals.get('PLAN_MISMATCH'), 1)
  })

  it('leaves out the chains it is told to; with a store generation, an unchanged store is not read again', async () => {
    const store = await open(envelopes)
    let reads = 0
    const latestOfScope = store.history.latestOfScope.bind(store.history)
    store.history.latestOfScope = (...args: Parameters<typeof latestOfScope>) => (reads++, latestOfScope(...args))
    let generation = 0
    const values = createConsensusValues({ store, network, params, domainSeparator: sep, generation: () => generation })
    const chainIds = network.chains.map((c) => c.chainId)
    assert.equal(await values.buildValue(3n, { excludeChainIds: chainIds }), null, 'every chain left out: nothing to propose')
    const first = await values.buildValue(3n)
    assert.ok(first)
    const readsAfterFirst = reads
    assert.deepEqual(await values.buildValue(3n), first, 'same height, same generation: the same value')
    assert.equal(reads, readsAfterFirst, 'without reading the store')
    generation++
    assert.deepEqual(await values.buildValue(3n), first, 'a new generation rebuilds (same snapshots, same value)')
    assert.ok(reads > readsAfterFirst)
    assert.notDeepEqual(await values.buildValue(4n), first, 'another height is another value')
  })

  it('returns null when there is nothing to liquidate', async () => {
    const w = { ...defaultWorld(), accounts: defaultWorld().accounts.slice(1) }
    const store = await open(signers.flatMap((s) => signWorld(s, w).bytes))
    assert.equal(await createConsensusValues({ store, network, params, domainSeparator: sep }).buildValue(1n), null)
  })
})
