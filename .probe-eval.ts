import type { Address, Hex } from 'viem'
import { evaluateMorphoPositions } from './chains/morpho/reader.js'
import { evaluateMorphoPosition } from './protocol/risk/morpho.js'
const id = ('0x' + 'ab'.repeat(32)) as Hex
const keys = Array.from({ length: 10000 }, (_, i) => ({ market: id, borrower: `0x${(0x1000 + i).toString(16).padStart(40, '0')}` as Address }))
const positions = keys.map((_, i) => ({ supplyShares: 0n, borrowShares: 10n ** 21n, collateral: 1100n * 10n ** 18n + BigInt(i) * 10n ** 15n }))
const market = { totalSupplyAssets: 10n ** 24n, totalSupplyShares: 10n ** 30n, totalBorrowAssets: 5n * 10n ** 23n, totalBorrowShares: 5n * 10n ** 29n, lastUpdate: 0n, fee: 0n }
const snap = { id, params: { loanToken: id.slice(0, 42) as Address, collateralToken: id.slice(0, 42) as Address, oracle: id.slice(0, 42) as Address, irm: id.slice(0, 42) as Address, lltv: 86n * 10n ** 16n }, stored: market, accrued: market, borrowRate: 0n, price: 10n ** 36n }
const block = { chainId: 1, blockNumber: 1n, blockHash: id, timestamp: 1n }
for (let r = 0; r < 8; r++) {
  let t = performance.now()
  const out = evaluateMorphoPositions(id.slice(0, 42) as Address, block, new Map([[id, snap]]), keys, positions)
  const a = performance.now() - t
  t = performance.now()
  for (const p of positions) evaluateMorphoPosition(p, market, 10n ** 36n, 86n * 10n ** 16n)
  console.log('records', a.toFixed(1), 'bare eval', (performance.now() - t).toFixed(1), out.filter(x => x.liquidatable).length)
}
