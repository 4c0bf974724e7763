import { keccak_256 } from '@noble/hashes/sha3'
import { createHash } from 'node:crypto'
const b = new Uint8Array(64)
for (let r = 0; r < 5; r++) {
  let t = performance.now()
  for (let i = 0; i < 10000; i++) { b[0] = i & 255; keccak_256(b) }
  const k = performance.now() - t
  t = performance.now()
  for (let i = 0; i < 10000; i++) { b[0] = i & 255; createHash('sha3-256').update(b).digest() }
  console.log('noble keccak 10k', k.toFixed(1), 'node sha3 10k', (performance.now() - t).toFixed(1))
}
