import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from 'viem'
import { PayloadKind, Venue, healthSnapshotFromWire, type WireHealthSnapshot } from '../../../protocol/proto/codec.js'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { createOperatorSigner, openEnvelope, signPayload } from '../../../protocol/signing/envelope.js'
import { Bucket } from '../../../node/store/buckets.js'
import { Store, type AcceptedSnapshot } from '../../../node/store/store.js'
import { TEST_KEYS, makeWireHealthSnapshot, makeWireLiquiditySnapshot } from './fixtures.js'

const sep = createDomainSeparator({})
const CHAIN = 31337

function accepted(signerIdx: number, block: number, observedAt: number, seed = 'm', n = 3): AcceptedSnapshot & { kind: PayloadKind.healthSnapshot; snapshot: WireHealthSnapshot } {
  const signer = createOperatorSigner(TEST_KEYS[signerIdx])
  const snapshot = makeWireHealthSnapshot({ blockNumber: BigInt(block), observedAt, seed, n })
  const m = signPayload({ kind: PayloadKind.healthSnapshot, snapshot }, signer, sep)
  return { kind: PayloadKind.healthSnapshot, snapshot, updatesLatest: true, record: { kind: PayloadKind.healthSnapshot, observedAt, receivedAt: observedAt + 5, digest: m.digest, operator: signer.addressBytes, envelope: m.bytes } }
}

describe('level store', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'liqnet-store-'))))
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('bucket numbers are fixed (persisted: never renumber)', () => {
    assert.deepEqual(
      Object.entries(Bucket).filter(([, v]) => typeof v === 'number'),
      [['snapshotHistory', 1], ['latestHealth', 2], ['accountHealth', 3], ['liquidity', 4], ['evidence', 5], ['flaggedOperator', 6], ['priceHistory', 7]],
    )
  })

  it('stores latest snapshots, account health across operators and liquidity, and survives a restart', async () => {
    let store = new Store({ path: dir })
    await store.open()
    const a = accepted(0, 10, 1000)
    const b = accepted(1, 11, 1100)
    const signer = createOperatorSigner(TEST_KEYS[0])
    const liq = makeWireLiquiditySnapshot({ observedAt: 1200 })
    const lm = signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: liq }, signer, sep)
    const written = await store.writeAccepted([a, b, { kind: PayloadKind.liquiditySnapshot, snapshot: liq, updatesLatest: true, record: { kind: PayloadKind.liquiditySnapshot, observedAt: 1200, receivedAt: 1201, digest: lm.digest, operator: signer.addressBytes, envelope: lm.bytes } }])
    assert.equal(written, 6)
    await store.close()

    store = new Store({ path: dir })
    await store.open()
    const market = bytesToHex(a.snapshot.market)
    const borrower = bytesToHex(a.snapshot.accounts[1].borrower)
    const views = await store.accountHealth.getAccount(CHAIN, market, borrower)
    assert.equal(views.length, 2)
    // The account bucket keeps the risk-feed fields; the planner fields stay in the stored envelope.
    const { borrowShares: _s, balances: _b, ...domain } = healthSnapshotFromWire(a.snapshot).accounts[1]
    assert.deepEqual(views.find((v) => v.blockNumber === 10n)!.account, domain)
    assert.equal((await store.accountHealth.listMarket(CHAIN, market)).length, 6)
    const latest = await store.latestHealth.get(createOperatorSigner(TEST_KEYS[1]).address, CHAIN, market)
    assert.ok(latest)
    // The stored envelope is still verifiable.
    assert.equal(openEnvelope(latest!.envelope, sep).signer.toLowerCase(), createOperatorSigner(TEST_KEYS[1]).address.toLowerCase())
    const venues = await store.liquidity.listVenue(CHAIN, Venue.uniswapV2)
    assert.equal(venues.length, 1)
    assert.equal((await store.history.getAt(PayloadKind.healthSnapshot, CHAIN, market, 10n)).length, 1)
    await store.close()
  })

  it('prunes by age and by count', async () => {
    const store = new Store({ path: dir })
    await store.open()
    for (let block = 1; block <= 10; block++) await store.writeAccepted([accepted(0, block, block * 1000, 'p', 2)])
    await store.writeAccepted([accepted(1, 5, 5000, 'q', 4)])
    assert.equal(await store.accountHealth.count(), 6)
    assert.equal(await store.history.count(), 11)
    // Age: everything observed before 6000 goes; count: at most 1 account entry; 3 blocks of history per market.
    const removed = await store.prune(10_000, { maxAgeMs: 4500, maxAccounts: 1, maxHistoryBlocksPerScope: 3 })
    assert.equal(await store.accountHealth.count(), 1)
    assert.equal(await store.history.count(), 3 + 1)
    assert.ok(removed.account_health === 5 && removed.latest_health === 1, JSON.stringify(removed))
    await store.close()
  })

  it('writes evidence and flags the operator once', async () => {
    const store = new Store({ path: dir })
    await store.open()
    const a = accepted(2, 7, 1000, 'e')
    const b = accepted(2, 7, 1001, 'e')
    await store.writeEvidence({ chainId: CHAIN, scope: a.snapshot.market, blockNumber: 7, part: 0, records: [a.record, b.record], flaggedAt: 42 })
    await store.writeEvidence({ chainId: CHAIN, scope: a.snapshot.market, blockNumber: 7, part: 0, records: [a.record, b.record], flaggedAt: 43 })
    const ev = await store.evidence.list(createOperatorSigner(TEST_KEYS[2]).address)
    assert.equal(ev.length, 2)
    assert.equal(ev[0].blockNumber, 7n)
    const flagged = await store.flaggedOperators.list()
    assert.equal(flagged.length, 1)
    assert.equal(flagged[0].flaggedAt, 42)
    await store.close()
  })
  it('coalesces several snapshots of one operator and market in a batch: latest wins, per account', async () => {
    const store = new Store({ path: dir })
    await store.open()
    const older = accepted(0, 20, 2000, 'co', 3)
    const newer = accepted(0, 21, 2100, 'co', 3)
    // The newer snapshot carries only the last two accounts (partial snapshot), the older all three.
    newer.snapshot = { ...newer.snapshot, accounts: newer.snapshot.accounts.slice(1) }
    const other = accepted(1, 20, 2000, 'co', 3)
    const written = await store.writeAccepted([older, other, newer])
    // Accounts stored: every snapshot's accounts (the rows are coalesced when written).
    assert.equal(written, 3 + 3 + 2)
    const market = bytesToHex(older.snapshot.market)
    const blockOf = async (i: number, operator: string) =>
      (await store.accountHealth.getAccount(CHAIN, market, bytesToHex(older.snapshot.accounts[i].borrower))).find((v) => v.operator.toLowerCase() === operator.toLowerCase())?.blockNumber
    const op0 = createOperatorSigner(TEST_KEYS[0]).address
    assert.equal(await blockOf(0, op0), 20n)
    assert.equal(await blockOf(1, op0), 21n)
    assert.equal(await blockOf(2, op0), 21n)
    assert.equal(await blockOf(1, createOperatorSigner(TEST_KEYS[1]).address), 20n)
    const latest = await store.latestHealth.get(op0, CHAIN, market)
    assert.equal(latest!.observedAt, 2100)
    assert.equal((await store.history.getAt(PayloadKind.healthSnapshot, CHAIN, market, 20n)).length, 2)
    await store.close()
  })
  it('writes account rows behind: one row per account and operator per flush, latest wins, reads flush first, close flushes', async () => {
    let store = new Store({ path: dir, accountFlushMs: 60_000 })
    await store.open()
    const older = accepted(3, 30, 3000, 'wb', 3)
    const newer = accepted(3, 31, 3100, 'wb', 3)
    newer.snapshot = { ...newer.snapshot, accounts: newer.snapshot.accounts.slice(1) }
    await store.writeAccepted([older])
    await store.writeAccepted([newer])
    // The older snapshot's rows of the two accounts the newer one carries are dropped before any write.
    assert.equal(store.accountHealth.pending, 3)
    const market = bytesToHex(older.snapshot.market)
    const op = createOperatorSigner(TEST_KEYS[3]).address.toLowerCase()
    const blockOf = async (i: number) => (await store.accountHealth.getAccount(CHAIN, market, bytesToHex(older.snapshot.accounts[i].borrower))).find((v) => v.operator.toLowerCase() === op)?.blockNumber
    assert.deepEqual([await blockOf(0), await blockOf(1), await blockOf(2)], [30n, 31n, 31n])
    assert.equal(store.accountHealth.pending, 0, 'the read flushed')
    // The snapshot records are written at once; rows staged at close are written by close.
    const later = accepted(3, 32, 3200, 'wb', 3)
    await store.writeAccepted([later])
    assert.equal((await store.latestHealth.get(createOperatorSigner(TEST_KEYS[3]).address, CHAIN, market))!.observedAt, 3200)
    await store.close()
    store = new Store({ path: dir, accountFlushMs: 60_000 })
    await store.open()
    assert.deepEqual([await blockOf(0), await blockOf(1), await blockOf(2)], [32n, 32n, 32n])
    await store.close()
  })
})
