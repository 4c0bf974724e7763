import { keccak256, type Address, type Hex } from 'viem'
import { positionBorrowSharesAndCollateralSlot } from './chains/morpho/reader.js'
import { evaluateMorphoPosition } from './protocol/risk/morpho.js'
const id = ('0x' + 'ab'.repeat(32)) as Hex
const users = Array.from({ length: 10000 }, (_, i) => `0x${(0x1000 + i).toString(16).padStart(40, '0')}` as Address)
for (let r = 0; r < 3; r++) {
  let t = performance.now()
  for (const u of users) positionBorrowSharesAndCollateralSlot(id, u)
  console.log('slots 10k', (performance.now() - t).toFixed(1))
}
const market = { totalSupplyAssets: 10n ** 24n, totalSupplyShares: 10n ** 30n, totalBorrowAssets: 5n * 10n ** 23n, totalBorrowShares: 5n * 10n ** 29n, lastUpdate: 0n, fee: 0n }
for (let r = 0; r < 3; r++) {
  let t = performance.now()
  let liq = 0
  for (let i = 0; i < 10000; i++) {
    const ev = evaluateMorphoPosition({ supplyShares: 0n, borrowShares: 10n ** 24n, collateral: 1100n * 10n ** 18n + BigInt(i) * 10n ** 17n }, market, 10n ** 36n, 86n * 10n ** 16n)
    if (ev.liquidatable) liq++
  }
  console.log('eval 10k', (performance.now() - t).toFixed(1), liq)
}
import { encodeAbiParameters } from 'viem'
{
  // check against the reference derivation
  const u = users[7]
  const inner = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [id, 2n]))
  const ref = BigInt(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [u, inner]))) + 1n
  console.log('slot ok', BigInt(positionBorrowSharesAndCollateralSlot(id, u)) === ref)
}
