import type { Address, Hex } from 'viem'
import { positionBorrowSharesAndCollateralSlot } from './chains/morpho/reader.js'
const users = Array.from({ length: 10000 }, (_, i) => `0x${(0x1000 + i).toString(16).padStart(40, '0')}` as Address)
for (let r = 0; r < 5; r++) {
  const id = ('0x' + r.toString(16).padStart(2, '0').repeat(32)) as Hex
  let t = performance.now()
  for (const u of users) positionBorrowSharesAndCollateralSlot(id, u)
  console.log('uncached slots 10k', (performance.now() - t).toFixed(1))
}
