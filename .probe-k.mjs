import { keccak256 } from 'viem'
const b = new Uint8Array(64)
for (let r = 0; r < 3; r++) {
  let t = performance.now()
  for (let i = 0; i < 10000; i++) { b[0] = i & 255; keccak256(b, 'bytes') }
  console.log('keccak 10k bytes', (performance.now() - t).toFixed(1))
}
