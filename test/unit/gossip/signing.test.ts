import assert from 'node:assert/strict'
import { bytesToHex, hashTypedData, recoverTypedDataAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { PayloadKind } from '../../../protocol/proto/codec.js'
import {
  createDomainSeparator,
  healthSnapshotDigest,
  healthSnapshotTypedData,
  liquiditySnapshotDigest,
  liquiditySnapshotTypedData,
} from '../../../protocol/signing/eip712.js'
import { createOperatorSigner, InvalidSignatureError, openEnvelope, signPayload } from '../../../protocol/signing/envelope.js'
import { nativeBackend, nobleBackend, recoverAddressBytes } from '../../../protocol/signing/secp256k1.js'
import { TEST_KEYS, makeWireHealthSnapshot, makeWireLiquiditySnapshot } from './fixtures.js'

const domains = [{}, { chainId: 31337 }, { chainId: 1, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const }]

describe('EIP-712 signing', () => {
  it('digests equal viem hashTypedData for every domain shape', () => {
    for (const domain of domains) {
      const sep = createDomainSeparator(domain)
      for (const n of [0, 1, 7, 500]) {
        const s = makeWireHealthSnapshot({ n, seed: `d${n}` })
        assert.equal(bytesToHex(healthSnapshotDigest(sep, s)), hashTypedData(healthSnapshotTypedData(domain, s)))
      }
      const l = makeWireLiquiditySnapshot()
      assert.equal(bytesToHex(liquiditySnapshotDigest(sep, l)), hashTypedData(liquiditySnapshotTypedData(domain, l)))
    }
  })

  it('signatures equal viem signTypedData and recover with viem', async () => {
    const domain = domains[2]
    const signer = createOperatorSigner(TEST_KEYS[0])
    const account = privateKeyToAccount(TEST_KEYS[0])
    assert.equal(signer.address.toLowerCase(), account.address.toLowerCase())
    const s = makeWireHealthSnapshot({ n: 3 })
    const signed = signPayload({ kind: PayloadKind.healthSnapshot, snapshot: s }, signer, createDomainSeparator(domain))
    const td = healthSnapshotTypedData(domain, s)
    assert.equal(bytesToHex(signed.envelope.signature), await account.signTypedData(td))
    assert.equal(await recoverTypedDataAddress({ ...td, signature: bytesToHex(signed.envelope.signature) }), account.address)
  })

  it('native and noble backends sign and recover identically', function () {
    if (!nativeBackend) this.skip()
    const native = nativeBackend!
    for (let i = 0; i < 40; i++) {
      const key = createOperatorSigner(TEST_KEYS[i % TEST_KEYS.length])
      const digest = makeWireHealthSnapshot({ seed: `k${i}`, n: 1 }).market
      const a = native.sign(digest, key.privateKey)
      const b = nobleBackend.sign(digest, key.privateKey)
      assert.deepEqual(a, b)
      assert.deepEqual(recoverAddressBytes(digest, a, native), key.addressBytes)
      assert.deepEqual(recoverAddressBytes(digest, a, nobleBackend), key.addressBytes)
      // A flipped bit recovers some other key or nothing, identically in both.
      const bad = a.slice()
      bad[5] ^= 1
      assert.deepEqual(recoverAddressBytes(digest, bad, native), recoverAddressBytes(digest, bad, nobleBackend))
    }
  })

  it('rejects high-s (malleated) signatures in both backends', () => {
    const key = createOperatorSigner(TEST_KEYS[1])
    const digest = new Uint8Array(32).fill(9)
    const sig = nobleBackend.sign(digest, key.privateKey)
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const s = BigInt(bytesToHex(sig.subarray(32, 64)))
    const high = sig.slice()
    high.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32)
    high[64] = sig[64] === 27 ? 28 : 27
    assert.equal(recoverAddressBytes(digest, high, nobleBackend), undefined)
    if (nativeBackend) assert.equal(recoverAddressBytes(digest, high, nativeBackend), undefined)
  })

  it('openEnvelope accepts a signed envelope and refuses a forged one', () => {
    const sep = createDomainSeparator({ chainId: 1 })
    const signer = createOperatorSigner(TEST_KEYS[2])
    const signed = signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: makeWireLiquiditySnapshot() }, signer, sep)
    assert.equal(openEnvelope(signed.bytes, sep).signer, signer.address)
    // Same signature, other domain: recovers someone else.
    assert.throws(() => openEnvelope(signed.bytes, createDomainSeparator({ chainId: 2 })), InvalidSignatureError)
  })

  it('measures recover rate of both backends (informative)', function () {
    const key = createOperatorSigner(TEST_KEYS[3])
    const digest = new Uint8Array(32).fill(3)
    const sig = nobleBackend.sign(digest, key.privateKey)
    for (const b of [nativeBackend, nobleBackend]) {
      if (!b) continue
      const n = b.name === 'native' ? 2000 : 50
      const t = performance.now()
      for (let i = 0; i < n; i++) recoverAddressBytes(digest, sig, b)
      const perS = Math.round((n / (performance.now() - t)) * 1000)
      console.log(`      ${b.name} recover: ${perS}/s`)
    }
  })
})
