import { bytesToHex, pad, type Address, type Hex } from 'viem'
import { createNetwork, type Network } from '../../../protocol/network.js'
import { defaultPlanParams } from '../../../protocol/planner/index.js'
import type { PlanParams } from '../../../protocol/planner/types.js'
import { LendingProtocol, PayloadKind, Venue, healthSnapshotToWire, liquiditySnapshotToWire, type AccountHealth, type HealthSnapshot } from '../../../protocol/proto/codec.js'
import type { AttestedSnapshot } from '../../../protocol/proposal/index.js'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { createOperatorSigner, openEnvelope, signPayload, type OperatorSigner } from '../../../protocol/signing/envelope.js'
import { TEST_KEYS, hexOf } from '../gossip/fixtures.js'

export const CHAIN = 31101
export const WETH = '0x5fbdb2315678afecb367f032d93f642f64180aa3' as Address
export const USDC = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512' as Address
export const MORPHO = '0xa51c1fc2f0d1a1b8494ed1fe312d7c3a78ed91c0' as Address
export const MARKET = hexOf('proposal/market', 32)
export const POOL = '0x4f57f9239efcbf43e5920f579d03b3849c588396' as Address
export const PAIR = '0xc3db35312b3b8205c4b8bc6ee9b0c27822822499' as Address
export const HUB = '0x00000000000000000000000000000000000000b0' as Address
export const sep = createDomainSeparator({ chainId: CHAIN, verifyingContract: HUB })
export const signers: OperatorSigner[] = TEST_KEYS.slice(0, 4).map((k) => createOperatorSigner(k))
export const params: PlanParams = { ...defaultPlanParams }

export const network: Network = createNetwork({
  hub: { chainId: CHAIN, address: HUB },
  operators: signers.map((s) => s.address),
  chains: [
    {
      chainId: CHAIN,
      eid: 40101,
      name: 'alpha',
      tokens: { WETH: { address: WETH, decimals: 18 }, USDC: { address: USDC, decimals: 6 } },
      morpho: { address: MORPHO, markets: [MARKET] },
      aave: { pool: POOL },
      uniswapV2: { pairs: [PAIR] },
    },
  ],
})

const E18 = 10n ** 18n
/** A Morpho borrower with 1 WETH of collateral and `debtUsdc` USDC borrowed (shares = assets × 1e6). */
export function morphoAccount(label: string, debtUsdc: bigint, price = 2400n): AccountHealth {
  const borrowAssets = debtUsdc * 10n ** 6n
  const maxBorrow = (E18 * price * 10n ** 24n) / 10n ** 36n * 86n / 100n
  const hf = (maxBorrow * E18) / borrowAssets
  return { borrower: hexOf(label, 20) as Address, collateral: E18, borrowAssets, healthFactor: hf, liquidatable: hf < E18, maxSeizable: 0n, borrowShares: borrowAssets * 10n ** 6n }
}

export type World = { accounts: AccountHealth[]; price: bigint; reserveWeth: bigint; reserveUsdc: bigint; block: bigint; blockHash: Hex; timestamp: bigint }

export function defaultWorld(): World {
  return {
    accounts: [morphoAccount('alice', 2120n), morphoAccount('bob', 2000n)],
    price: 2400n,
    reserveWeth: 1000n * E18,
    reserveUsdc: 2_400_000n * 10n ** 6n,
    block: 100n,
    blockHash: hexOf('block/100', 32),
    timestamp: 1_700_000_000n,
  }
}

/** The Morpho health snapshot, Aave health snapshot (no users) and pair snapshot one operator signs for `w`. */
export function signWorld(signer: OperatorSigner, w: World, tweak: (s: HealthSnapshot) => void = () => {}): { bytes: Uint8Array[]; attested: AttestedSnapshot[] } {
  const totalBorrow = w.accounts.reduce((s, a) => s + a.borrowAssets, 0n)
  const morpho: HealthSnapshot = {
    chainId: CHAIN, protocol: LendingProtocol.morphoBlue, market: MARKET, blockNumber: w.block, blockHash: w.blockHash, observedAt: 1_700_000_000_000,
    full: true, part: 0, parts: 1, accounts: w.accounts.map((a) => ({ ...a })), blockTimestamp: w.timestamp,
    morpho: { loanToken: USDC, collateralToken: WETH, lltv: 86n * 10n ** 16n, totalSupplyAssets: 10n ** 12n, totalBorrowAssets: totalBorrow, totalBorrowShares: totalBorrow * 10n ** 6n, oraclePrice: w.price * 10n ** 24n },
  }
  tweak(morpho)
  const aave: HealthSnapshot = {
    chainId: CHAIN, protocol: LendingProtocol.aaveV3, market: pad(POOL, { size: 32 }), blockNumber: w.block, blockHash: w.blockHash, observedAt: 1_700_000_000_000,
    full: true, part: 0, parts: 1, accounts: [], blockTimestamp: w.timestamp,
    aaveReserves: [
      { asset: WETH, liquidationThresholdBps: 8250, liquidationBonusBps: 10500, liquidationProtocolFeeBps: 1000, price: w.price * 10n ** 8n },
      { asset: USDC, liquidationThresholdBps: 8000, liquidationBonusBps: 10450, liquidationProtocolFeeBps: 1000, price: 10n ** 8n },
    ],
  }
  const [token0, token1, r0, r1] = WETH < USDC ? [WETH, USDC, w.reserveWeth, w.reserveUsdc] : [USDC, WETH, w.reserveUsdc, w.reserveWeth]
  const pair = liquiditySnapshotToWire({ chainId: CHAIN, venue: Venue.uniswapV2, pair: PAIR, token0, token1, blockNumber: w.block, blockHash: w.blockHash, observedAt: 1_700_000_000_000, reserve0: r0, reserve1: r1, depth: [] })
  const bytes = [
    signPayload({ kind: PayloadKind.healthSnapshot, snapshot: healthSnapshotToWire(morpho) }, signer, sep).bytes,
    signPayload({ kind: PayloadKind.healthSnapshot, snapshot: healthSnapshotToWire(aave) }, signer, sep).bytes,
    signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: pair }, signer, sep).bytes,
  ]
  return { bytes, attested: bytes.map(attest) }
}

/** Opens (checks the signature of) an envelope as an AttestedSnapshot. */
export function attest(bytes: Uint8Array): AttestedSnapshot {
  const o = openEnvelope(bytes, sep)
  return { operator: o.signer.toLowerCase() as Address, digest: bytesToHex(o.digest), ...o.payload } as AttestedSnapshot
}
