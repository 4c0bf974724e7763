import assert from 'node:assert/strict'
import { concat, keccak256, type Hex } from 'viem'
import {
  addressToBytes32,
  bytes32ToAddress,
  computeGuid,
  decodeLzReceiveOption,
  decodePacket,
  encodePacket,
  InvalidOptionsError,
  InvalidPacketError,
  lzReceiveOptions,
  pathNonceKey,
} from '../../../chains/bridges/layerzero/index.js'

const sender = '0x1111111111111111111111111111111111111111'
const receiver = '0x2222222222222222222222222222222222222222'

describe('LayerZero adapter: packets and options', () => {
  it('encodes and decodes a packet (PacketV1Codec layout), with the GUID EndpointV2 computes and the payload hash', () => {
    const header = { nonce: 7n, srcEid: 40101, sender: addressToBytes32(sender), dstEid: 40102, receiver: addressToBytes32(receiver) }
    const guid = computeGuid(header)
    const message: Hex = '0xdeadbeef'
    const encoded = encodePacket({ ...header, guid, message })
    assert.equal((encoded.length - 2) / 2, 113 + 4)
    const p = decodePacket(encoded)
    assert.equal(p.version, 1)
    assert.equal(p.nonce, 7n)
    assert.equal(p.srcEid, 40101)
    assert.equal(p.dstEid, 40102)
    assert.equal(p.senderAddress.toLowerCase(), sender)
    assert.equal(p.receiverAddress.toLowerCase(), receiver)
    assert.equal(p.guid, guid)
    assert.equal(p.message, message)
    assert.equal(p.payloadHash, keccak256(concat([guid, message])))
    assert.equal(pathNonceKey(p), pathNonceKey({ srcEid: 40101, sender: p.sender, nonce: 7n, receiver }))
  })

  it('refuses bytes that are not a version-1 packet, naming the rule', () => {
    assert.throws(() => decodePacket('0x1234'), (e: unknown) => e instanceof InvalidPacketError && /at least 113/.test(e.shortMessage))
    assert.throws(() => decodePacket('0xzz' as Hex), InvalidPacketError)
    const v2 = `0x02${encodePacket({ nonce: 1n, srcEid: 1, sender: addressToBytes32(sender), dstEid: 2, receiver: addressToBytes32(receiver), guid: `0x${'00'.repeat(32)}`, message: '0x' }).slice(4)}` as Hex
    assert.throws(() => decodePacket(v2), (e: unknown) => e instanceof InvalidPacketError && /version 2/.test(e.shortMessage))
  })

  it('converts addresses to bytes32 and back', () => {
    const b = addressToBytes32(receiver)
    assert.equal(b, `0x${'00'.repeat(12)}${receiver.slice(2)}`)
    assert.equal(bytes32ToAddress(b).toLowerCase(), receiver)
  })

  it('builds type-3 executor lzReceive options and reads them back (several options are summed)', () => {
    const o = lzReceiveOptions(300_000n)
    assert.equal(o, '0x000301001101000000000000000000000000000493e0')
    assert.deepEqual(decodeLzReceiveOption(o), { gas: 300_000n, value: 0n })
    assert.deepEqual(decodeLzReceiveOption(lzReceiveOptions(100_000n, 5n)), { gas: 100_000n, value: 5n })
    const two = `${lzReceiveOptions(100_000n)}${lzReceiveOptions(50_000n).slice(6)}` as Hex
    assert.deepEqual(decodeLzReceiveOption(two), { gas: 150_000n, value: 0n })
    assert.equal(decodeLzReceiveOption('0x'), undefined)
  })

  it('refuses bad options with InvalidOptionsError', () => {
    assert.throws(() => lzReceiveOptions(0n), InvalidOptionsError)
    assert.throws(() => lzReceiveOptions(1n << 128n), InvalidOptionsError)
    assert.throws(() => lzReceiveOptions(1n, -1n), InvalidOptionsError)
    assert.throws(() => decodeLzReceiveOption('0x0001abcd'), (e: unknown) => e instanceof InvalidOptionsError && /type 0001/.test(e.shortMessage))
    assert.throws(() => decodeLzReceiveOption('nothex' as Hex), InvalidOptionsError)
  })
})
