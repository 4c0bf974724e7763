import { createHash } from 'node:crypto'
import { bytesToHex, type Address, type Hex } from 'viem'
import {
  LendingProtocol,
  Venue,
  healthSnapshotToWire,
  liquiditySnapshotToWire,
  type HealthSnapshot,
  type LiquiditySnapshot,
  type WireHealthSnapshot,
  type WireLiquiditySnapshot,
} from '../../../protocol/proto/codec.js'

/** Deterministic pseudo-random bytes from a label (test data only). */
export function bytesOf(label: string, size: number): Uint8Array {
  const out = new Uint8Array(size)
  let ctr = 0
  for (let o = 0; o < size; o += 32) out.set(createHash('sha256').update(`${label}/${ctr++}`).digest().subarray(0, Math.min(32, size - o)), o)
  return out
}
export const hexOf = (label: string, size: number): Hex => bytesToHex(bytesOf(label, size))

/** Well-known test keys (anvil's first accounts). */
export const TEST_KEYS: Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b24663d3ecf6e7f6e8e8a6d9',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
  '0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897',
  '0x701b615bbdfb9de65240bc28bd21bbc0d996645a3dd57e7b12bc2bdf6f192c82',
  '0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1',
  '0x47c99abed3324a2707c28affff1267e45918ec8c3f20b8aa892e8b065d2942dd',
  '0xc526ee95bf44d8fc405a158bb884d9d1238d99f0612e9f33d006bb0789009aaa',
  '0x8166f546bab6da521a8369cab06c5d2b9e46670292d85c875ee9ec20e84ffb61',
  '0xea6c44ac03bff858b476bba40716402b03e41b8e97e276d1baec7c37d42484a0',
]

/** A HealthSnapshot of `n` accounts with realistic magnitudes. */
export function makeHealthSnapshot(opts: { chainId?: number; blockNumber?: bigint; observedAt?: number; n?: number; seed?: string; market?: Hex } = {}): HealthSnapshot {
  const n = opts.n ?? 5
  const seed = opts.seed ?? 's'
  const accounts = Array.from({ length: n }, (_, i) => {
    const hf = 9n * 10n ** 17n + BigInt(i) * 10n ** 15n
    return {
      borrower: hexOf(`${seed}/borrower/${i}`, 20) as Address,
      collateral: 10n ** 21n + BigInt(i),
      borrowAssets: 8n * 10n ** 20n + BigInt(i) * 7n,
      healthFactor: hf,
      liquidatable: hf < 10n ** 18n,
      maxSeizable: hf < 10n ** 18n ? 3n * 10n ** 20n : 0n,
      borrowShares: (8n * 10n ** 20n + BigInt(i) * 7n) * 10n ** 6n,
      balances: [],
    }
  })
  return {
    chainId: opts.chainId ?? 31337,
    protocol: LendingProtocol.morphoBlue,
    market: opts.market ?? hexOf(`${seed}/market`, 32),
    blockNumber: opts.blockNumber ?? 100n,
    blockHash: hexOf(`${seed}/block/${opts.blockNumber ?? 100n}`, 32),
    observedAt: opts.observedAt ?? 1_700_000_000_000,
    full: true,
    part: 0,
    parts: 1,
    accounts,
    blockTimestamp: 1_700_000_000n + (opts.blockNumber ?? 100n) * 12n,
    aaveReserves: [],
    morpho: {
      loanToken: hexOf(`${seed}/loan`, 20) as Address,
      collateralToken: hexOf(`${seed}/coll`, 20) as Address,
      lltv: 86n * 10n ** 16n,
      totalSupplyAssets: 10n ** 30n,
      totalBorrowAssets: 10n ** 28n,
      totalBorrowShares: 10n ** 34n,
      oraclePrice: 3000n * 10n ** 24n,
    },
  }
}

/** An Aave V3 HealthSnapshot of `n` users over two reserves (one collateral, one debt). */
export function makeAaveHealthSnapshot(opts: { chainId?: number; blockNumber?: bigint; observedAt?: number; n?: number; seed?: string } = {}): HealthSnapshot {
  const base = makeHealthSnapshot({ ...opts, seed: opts.seed ?? 'aave' })
  const seed = opts.seed ?? 'aave'
  const weth = hexOf(`${seed}/weth`, 20) as Address
  const usdc = hexOf(`${seed}/usdc`, 20) as Address
  const { morpho: _morpho, ...rest } = base
  return {
    ...rest,
    protocol: LendingProtocol.aaveV3,
    market: `0x${'00'.repeat(12)}${hexOf(`${seed}/pool`, 20).slice(2)}` as Hex,
    aaveReserves: [
      { asset: weth, liquidationThresholdBps: 8250, liquidationBonusBps: 10500, liquidationProtocolFeeBps: 1000, price: 3000n * 10n ** 8n },
      { asset: usdc, liquidationThresholdBps: 8000, liquidationBonusBps: 10450, liquidationProtocolFeeBps: 1000, price: 10n ** 8n },
    ],
    accounts: base.accounts.map((a, i) => ({
      ...a,
      borrowShares: 0n,
      balances: [
        { asset: weth, collateral: 10n ** 18n + BigInt(i), debt: 0n },
        { asset: usdc, collateral: 0n, debt: 2_000_000_000n + BigInt(i) },
      ],
    })),
  }
}
export const makeWireHealthSnapshot = (opts: Parameters<typeof makeHealthSnapshot>[0] = {}): WireHealthSnapshot =>
  healthSnapshotToWire(makeHealthSnapshot(opts))

export function makeLiquiditySnapshot(opts: { chainId?: number; blockNumber?: bigint; observedAt?: number; seed?: string } = {}): LiquiditySnapshot {
  const seed = opts.seed ?? 'l'
  let token0 = hexOf(`${seed}/t0`, 20) as Address
  let token1 = hexOf(`${seed}/t1`, 20) as Address
  if (token0.toLowerCase() > token1.toLowerCase()) [token0, token1] = [token1, token0]
  return {
    chainId: opts.chainId ?? 31337,
    venue: Venue.uniswapV2,
    pair: hexOf(`${seed}/pair`, 20) as Address,
    token0,
    token1,
    blockNumber: opts.blockNumber ?? 100n,
    blockHash: hexOf(`${seed}/block`, 32),
    observedAt: opts.observedAt ?? 1_700_000_000_000,
    reserve0: 5n * 10n ** 24n,
    reserve1: 10n ** 22n,
    depth: [50, 100, 200, 500].flatMap((impactBps) => [
      { zeroForOne: false, impactBps, amountIn: BigInt(impactBps) * 10n ** 18n, amountOut: BigInt(impactBps) * 10n ** 16n },
      { zeroForOne: true, impactBps, amountIn: BigInt(impactBps) * 10n ** 19n, amountOut: BigInt(impactBps) * 10n ** 15n },
    ]),
  }
}
export const makeWireLiquiditySnapshot = (opts: Parameters<typeof makeLiquiditySnapshot>[0] = {}): WireLiquiditySnapshot =>
  liquiditySnapshotToWire(makeLiquiditySnapshot(opts))
