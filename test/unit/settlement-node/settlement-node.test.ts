import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeErrorResult, type Address, type Hex } from 'viem'
import { liquidationHubAbi } from '../../../contracts/out/abis.js'
import { SettlementOutbox, type OutboxRecord } from '../../../node/settlement/outbox.js'
import { decodeLegReason, type LegStatusView } from '../../../node/settlement/tracker.js'
import { designatedTransmitter, transmitRank, TransmitterError } from '../../../node/settlement/transmitter.js'
import { bumpFees } from '../../../node/settlement/tx.js'
import { toLegSettlement } from '../../../node/settlement/api.js'

const ops: Address[] = ['0x00000000000000000000000000000000000000a1', '0x00000000000000000000000000000000000000b2', '0x00000000000000000000000000000000000000c3', '0x00000000000000000000000000000000000000d4']

describe('settlement node: schedule, fee bumps, reasons, outbox', () => {
  it('designates operators[h mod n] and ranks the others in rotation; every height has one rank 0 and distinct ranks', () => {
    assert.equal(designatedTransmitter(0n, ops), ops[0])
    assert.equal(designatedTransmitter(5n, ops), ops[1])
    for (let h = 0n; h < 12n; h++) {
      const ranks = ops.map((o) => transmitRank(h, ops, o))
      assert.deepEqual([...ranks].sort(), [0, 1, 2, 3])
      assert.equal(transmitRank(h, ops, designatedTransmitter(h, ops)), 0)
    }
    assert.equal(transmitRank(5n, ops, ops[2]!), 1)
    assert.equal(transmitRank(5n, ops, ops[0]!), 3)
    assert.throws(() => transmitRank(1n, ops, '0x00000000000000000000000000000000000000ff'), TransmitterError)
    assert.throws(() => designatedTransmitter(1n, []), TransmitterError)
  })

  it('raises replacement fees by at least the bump (rounded up), follows the market, respects the cap', () => {
    const prev = { maxFeePerGas: 1000n, maxPriorityFeePerGas: 100n }
    assert.deepEqual(bumpFees(prev, { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }, 1250), { maxFeePerGas: 1125n, maxPriorityFeePerGas: 113n })
    assert.deepEqual(bumpFees(prev, { maxFeePerGas: 5000n, maxPriorityFeePerGas: 300n }, 1250), { maxFeePerGas: 5000n, maxPriorityFeePerGas: 300n })
    assert.deepEqual(bumpFees(prev, { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }, 1250, 1100n), { maxFeePerGas: 1100n, maxPriorityFeePerGas: 113n })
    assert.deepEqual(bumpFees({ maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }, { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n }, 1250), { maxFeePerGas: 2n, maxPriorityFeePerGas: 2n })
  })

  it('decodes failed legs’ reasons into codes', () => {
    const enc = (errorName: string, args: unknown[]) => encodeErrorResult({ abi: liquidationHubAbi, errorName: errorName as never, args: args as never })
    const errorString = (msg: string) => encodeErrorResult({ abi: [{ type: 'error', name: 'Error', inputs: [{ type: 'string', name: 'message' }] }], errorName: 'Error', args: [msg] })
    assert.equal(decodeLegReason(errorString('position is healthy')).reasonCode, 'ACCOUNT_HEALTHY')
    assert.equal(decodeLegReason(errorString('45')).reasonCode, 'ACCOUNT_HEALTHY')
    assert.equal(decodeLegReason(enc('SlippageBoundHit', [ops[0], 1n, 2n])).reasonCode, 'SLIPPAGE')
    assert.equal(decodeLegReason(enc('DeadlinePassed', [1n, 2n])).reasonCode, 'DEADLINE_PASSED')
    assert.equal(decodeLegReason(enc('InvalidSwapPool', [ops[0]])).reasonCode, 'INVALID_SWAP_POOL')
    assert.equal(decodeLegReason('0x').reasonCode, 'UNKNOWN')
    assert.equal(decodeLegReason('0x12345678').reasonCode, 'UNKNOWN')
  })

  it('maps tracked legs to the API’s LegSettlement', () => {
    const base: LegStatusView = { seq: 3, eid: 1, local: false, state: 'pending', updatedAt: 5 }
    assert.deepEqual(toLegSettlement(base), { seq: 3, status: 'planned', updatedAt: 5 })
    assert.equal(toLegSettlement({ ...base, state: 'delivered', guid: '0x01' }).status, 'dispatched')
    assert.deepEqual(toLegSettlement({ ...base, state: 'failed', reasonCode: 'SLIPPAGE', receiptTx: '0xab' }), { seq: 3, status: 'failed', txHash: '0xab', reason: 'SLIPPAGE', updatedAt: 5 })
  })

  describe('outbox (level)', () => {
    let dir: string
    before(() => (dir = mkdtempSync(join(tmpdir(), 'liqnet-outbox-'))))
    after(() => rmSync(dir, { recursive: true, force: true }))

    const record = (height: bigint, state: OutboxRecord['state']): OutboxRecord => ({
      height,
      planDigest: `0x${'11'.repeat(32)}`,
      hubChainId: 1,
      hub: ops[0]!,
      from: ops[1]!,
      state,
      rank: 1,
      dueAt: 10,
      calldata: '0xabcd',
      nonce: 4,
      attempts: [{ hash: `0x${'22'.repeat(32)}` as Hex, raw: '0x01', maxFeePerGas: 10n ** 30n, maxPriorityFeePerGas: 3n, sentAt: 1, cancel: true }],
      gasUsed: 123n,
      createdAt: 1,
      updatedAt: 2,
    })

    it('stores records across a reopen (bigints intact), lists newest first and returns the unfinished ones', async () => {
      const path = join(dir, 'db')
      const a = new SettlementOutbox({ path })
      await a.open()
      await a.put(record(1n, 'landed'))
      await a.put(record(2n, 'sending'))
      await a.put(record(300n, 'scheduled'))
      await a.close()
      const b = new SettlementOutbox({ path })
      await b.open()
      assert.deepEqual(await b.get(2n), record(2n, 'sending'))
      assert.equal(await b.get(9n), undefined)
      assert.deepEqual((await b.pending()).map((r) => r.height), [2n, 300n])
      assert.deepEqual((await b.list()).map((r) => r.height), [300n, 2n, 1n])
      assert.deepEqual((await b.list({ before: 300n, limit: 1 })).map((r) => r.height), [2n])
      await b.close()
    })
  })
})
