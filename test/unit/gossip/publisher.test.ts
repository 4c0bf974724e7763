import assert from 'node:assert/strict'
import type { Address, Hex } from 'viem'
import { LendingProtocol, PayloadKind, Venue, healthSnapshotFromWire, type AccountHealth } from '../../../protocol/proto/codec.js'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { createOperatorSigner, openEnvelope } from '../../../protocol/signing/envelope.js'
import { GossipAction } from '../../../node/gossip/errors.js'
import { SnapshotPublisher, type MarketHealth, type PoolLiquidity } from '../../../node/publish/publisher.js'
import { aaveAccountHealth, aaveMarketId, groupByMarket } from '../../../node/publish/chains-source.js'
import { MAX_HEALTH_MESSAGE_BYTES } from '../../../protocol/limits.js'
import { TEST_KEYS, hexOf } from './fixtures.js'

const WAD = 10n ** 18n
const sep = createDomainSeparator({})
const signer = createOperatorSigner(TEST_KEYS[0])
const market = hexOf('pub/market', 32)

function account(i: number, hf: bigint): AccountHealth {
  return { borrower: hexOf(`pub/b/${i}`, 20) as Address, collateral: 1000n + BigInt(i), borrowAssets: 500n, healthFactor: hf, liquidatable: hf < WAD, maxSeizable: hf < WAD ? 10n : 0n }
}

function setup(opts: { accounts: () => AccountHealth[]; pools?: () => PoolLiquidity[]; maxAccountsPerMessage?: number; fullRefreshMs?: number; liquidityEveryBlock?: boolean }) {
  let now = 1_000_000
  const sent: { type: string; bytes: Uint8Array }[] = []
  const publisher = new SnapshotPublisher({
    source: {
      async read(chainId, blockNumber) {
        const health: MarketHealth[] = [{ protocol: LendingProtocol.morphoBlue, market, accounts: opts.accounts() }]
        return { block: { chainId, blockNumber, blockHash: hexOf(`blk${blockNumber}`, 32) as Hex }, health, liquidity: opts.pools?.() ?? [] }
      },
    },
    sink: { publish: async (topic, bytes) => (sent.push({ type: topic.type, bytes }), { action: GossipAction.ACCEPT } as never) },
    signer,
    domainSeparator: sep,
    fullRefreshMs: opts.fullRefreshMs ?? 10_000,
    maxAccountsPerMessage: opts.maxAccountsPerMessage,
    liquidityEveryBlock: opts.liquidityEveryBlock,
    now: () => now,
  })
  const decoded = () => sent.filter((s) => s.type === 'health').map((s) => openEnvelope(s.bytes, sep)).map((o) => (o.payload.kind === PayloadKind.healthSnapshot ? healthSnapshotFromWire(o.payload.snapshot) : undefined)!)
  return { publisher, sent, decoded, advance: (ms: number) => (now += ms) }
}

describe('snapshot publisher', () => {
  it('sends everything first (full), then only changed and near-liquidation accounts, then a full refresh', async () => {
    let hfs = [2n * WAD, 3n * WAD, 1_050_000_000_000_000_000n]
    const t = setup({ accounts: () => hfs.map((hf, i) => account(i, hf)) })
    await t.publisher.onBlock(1, 10n)
    await t.publisher.onBlock(1, 10n) // same block again: never re-signed
    t.advance(1000)
    hfs = [2n * WAD, 25n * WAD / 10n, 1_050_000_000_000_000_000n]
    await t.publisher.onBlock(1, 11n)
    t.advance(1000)
    await t.publisher.onBlock(1, 12n)
    t.advance(10_000)
    await t.publisher.onBlock(1, 13n)
    const d = t.decoded()
    assert.deepEqual(d.map((s) => [s.blockNumber, s.full, s.accounts.length]), [[10n, true, 3], [11n, false, 2], [12n, false, 1], [13n, true, 3]])
    // Signed by the operator, for the right market.
    assert.ok(d.every((s) => s.market === market))
  })

  it('splits large markets into parts', async () => {
    const t = setup({ accounts: () => Array.from({ length: 25 }, (_, i) => account(i, 2n * WAD)), maxAccountsPerMessage: 10 })
    await t.publisher.onBlock(1, 5n)
    const d = t.decoded()
    assert.deepEqual(d.map((s) => [s.part, s.parts, s.accounts.length]), [[0, 3, 10], [1, 3, 10], [2, 3, 5]])
  })

  it('publishes liquidity every block by default; optionally only when reserves change or at a full refresh', async () => {
    for (const [liquidityEveryBlock, expected] of [[undefined, 3], [false, 2]] as const) {
      let r0 = 100n
      const pool = (): PoolLiquidity[] => [{ venue: Venue.uniswapV2, pair: hexOf('pair', 20) as Address, token0: '0x0000000000000000000000000000000000000001', token1: '0x0000000000000000000000000000000000000002', reserve0: r0, reserve1: 200n, depth: [{ zeroForOne: true, impactBps: 100, amountIn: 1n, amountOut: 1n }] }]
      const t = setup({ accounts: () => [], pools: pool, liquidityEveryBlock })
      await t.publisher.onBlock(1, 1n)
      await t.publisher.onBlock(1, 2n)
      r0 = 101n
      await t.publisher.onBlock(1, 3n)
      assert.equal(t.sent.filter((s) => s.type === 'liquidity').length, expected)
    }
  })

  it('carries the block timestamp and the market state in every part, and splits Aave accounts with balances by size', async () => {
    const weth = '0x00000000000000000000000000000000000000e1' as Address
    const usdc = '0x00000000000000000000000000000000000000e2' as Address
    const others = ['0x00000000000000000000000000000000000000e3', '0x00000000000000000000000000000000000000e4'] as Address[]
    const aaveReserves = [usdc, weth, ...others].map((asset) => ({ asset, liquidationThresholdBps: 8000, liquidationBonusBps: 10450, liquidationProtocolFeeBps: 1000, price: 10n ** 8n }))
    const big = (2n ** 255n) | 1n
    const accounts = Array.from({ length: 1000 }, (_, i) => ({
      ...account(i, 9n * WAD / 10n),
      balances: [weth, usdc, ...others].map((asset) => ({ asset, collateral: big, debt: big })),
    }))
    const sent: Uint8Array[] = []
    const publisher = new SnapshotPublisher({
      source: {
        async read(chainId, blockNumber) {
          return { block: { chainId, blockNumber, blockHash: hexOf('b', 32) as Hex, timestamp: 1_700_000_123n }, health: [{ protocol: LendingProtocol.aaveV3, market, accounts, aaveReserves }], liquidity: [] }
        },
      },
      sink: { publish: async (_topic, bytes) => (sent.push(bytes), { action: GossipAction.ACCEPT } as never) },
      signer,
      domainSeparator: sep,
    })
    await publisher.onBlock(1, 7n)
    assert.ok(sent.length >= 2, `${sent.length} parts`)
    assert.ok(sent.every((b) => b.length <= MAX_HEALTH_MESSAGE_BYTES))
    const parts = sent.map((b) => openEnvelope(b, sep).payload).map((p) => (p.kind === PayloadKind.healthSnapshot ? healthSnapshotFromWire(p.snapshot) : undefined)!)
    assert.equal(parts.reduce((n, p) => n + p.accounts.length, 0), 1000)
    for (const p of parts) {
      assert.equal(p.blockTimestamp, 1_700_000_123n)
      assert.deepEqual(p.aaveReserves!.map((r) => r.asset), [weth, usdc, ...others].sort())
      assert.deepEqual(p.accounts[0].balances!.map((b) => b.asset).sort(), [weth, usdc, ...others].sort())
    }
  })

  it('adapts Aave accounts (base currency) and groups markets', () => {
    const pool = '0x00000000000000000000000000000000000000aa' as Address
    const a = aaveAccountHealth({
      protocol: 'aave-v3', chainId: 1, blockNumber: 1n, healthFactor: 9n * WAD / 10n, liquidatable: true, pool, user: hexOf('u', 20) as Address,
      totalCollateralBase: 10_000n, totalDebtBase: 9_000n, availableBorrowsBase: 0n, currentLiquidationThresholdBps: 8000n, ltvBps: 7500n, closeFactorBps: 5000n, eModeCategory: 0,
      reserves: [{ asset: pool, decimals: 18, aTokenBalance: 1n, totalDebt: 0n, usageAsCollateralEnabled: true, priceBase: 1n, liquidationBonusBps: 10500n, liquidationThresholdBps: 8000n, liquidationProtocolFeeBps: 0n, maxDebtToCover: 0n }],
    })
    assert.equal(a.maxSeizable, (9_000n * 5000n * 10500n) / 100_000_000n)
    const groups = groupByMarket([], [{ protocol: 'aave-v3', pool, user: a.borrower, totalCollateralBase: 1n, totalDebtBase: 0n, healthFactor: WAD, liquidatable: false, closeFactorBps: 5000n, reserves: [] } as never])
    assert.equal(groups[0].market, aaveMarketId(pool))
    assert.equal(groups[0].protocol, LendingProtocol.aaveV3)
  })
})
