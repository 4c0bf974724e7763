import { keccak256, bytesToHex } from 'viem'
import { keccak_256 } from '@noble/hashes/sha3'
import { keccak256Short } from './chains/evm/keccak.js'
for (let len = 0; len < 136; len++) {
  const b = new Uint8Array(len).map((_, i) => (i * 31 + len) & 255)
  if (bytesToHex(keccak256Short(b)) !== keccak256(b)) { console.log('MISMATCH', len); process.exit(1) }
}
console.log('ok all lengths')
const b = new Uint8Array(64)
const out = new Uint8Array(32)
for (let r = 0; r < 3; r++) {
  let t = performance.now()
  for (let i = 0; i < 20000; i++) { b[0] = i & 255; keccak256Short(b, out) }
  const mine = (performance.now() - t) / 20
  t = performance.now()
  for (let i = 0; i < 20000; i++) { b[0] = i & 255; keccak_256(b) }
  console.log('mine µs', mine.toFixed(2), 'noble µs', ((performance.now() - t) / 20).toFixed(2))
}
