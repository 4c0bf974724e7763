import { strict as assert } from 'node:assert'
import type { GossipSub } from '@chainsafe/libp2p-gossipsub'
import type { Message } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { enforceIdontwant, messageId, publisherMessageId } from '../../../node/p2p/host.js'
import { peerKeyFromSeed } from '../../../node/p2p/keys.js'
import { bytesOf } from './fixtures.js'

describe('p2p host: message ids and IDONTWANT', () => {
  it('publisher message id is peer id ‖ 8-byte seqno; unsigned messages get the content id', async () => {
    const from = peerIdFromPrivateKey(await peerKeyFromSeed(bytesOf('host-test', 32)))
    const signed = (seq: bigint, data: Uint8Array) => ({ type: 'signed', from, sequenceNumber: seq, data, topic: 't', signature: new Uint8Array(64), key: from.publicKey }) as unknown as Message
    const a = publisherMessageId(signed(1n, Uint8Array.of(1)))
    const mh = from.toMultihash().bytes
    assert.deepEqual(a.subarray(0, mh.length), mh)
    assert.deepEqual(a.subarray(mh.length), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1))
    // Same publisher and seqno: same id whatever the data (the signature binds them); another seqno: another id.
    assert.deepEqual(publisherMessageId(signed(1n, Uint8Array.of(2))), a)
    assert.notDeepEqual(publisherMessageId(signed(2n, Uint8Array.of(1))), a)
    const unsigned = { type: 'unsigned', data: Uint8Array.of(7), topic: 't' } as unknown as Message
    assert.deepEqual(publisherMessageId(unsigned), messageId(unsigned))
  })

  it('relaying skips peers that sent IDONTWANT for the message, and keeps the excluded peers given', () => {
    const calls: { id: string; exclude?: Set<string> }[] = []
    const stub = {
      idontwants: new Map([
        ['peerA', new Map([['m1', 0]])],
        ['peerB', new Map([['m2', 0]])],
      ]),
      forwardMessage(id: string, _raw: unknown, _src?: string, exclude?: Set<string>) {
        calls.push({ id, exclude })
      },
    }
    assert.equal(enforceIdontwant(stub as unknown as GossipSub), true)
    const given = new Set(['peerC'])
    stub.forwardMessage('m1', {}, 'src', given)
    stub.forwardMessage('m3', {}, 'src', undefined)
    assert.deepEqual([...calls[0].exclude!].sort(), ['peerA', 'peerC'])
    assert.deepEqual([...given], ['peerC'], 'the caller’s set is not mutated')
    assert.equal(calls[1].exclude, undefined)
    assert.equal(enforceIdontwant({} as unknown as GossipSub), false)
  })
})
