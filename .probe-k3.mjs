import { keccak_256 } from '@noble/hashes/sha3'
const b = new Uint8Array(64)
let t = performance.now()
for (let i = 0; i < 100000; i++) { b[0] = i & 255; keccak_256(b) }
console.log('noble keccak per hash µs', ((performance.now() - t) / 100).toFixed(2))
t = performance.now()
let x = 0
for (let i = 0; i < 1e8; i++) { x = (x + i * 7) | 0 }
console.log('1e8 int loop ms', (performance.now() - t).toFixed(0), x)
