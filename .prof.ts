import { PayloadKind, decodeEnvelope, decodeHealthSnapshot, protoTypes } from './protocol/proto/codec.js'
import { createDomainSeparator, healthAccountsHash, healthSnapshotDigest } from './protocol/signing/eip712.js'
import { createOperatorSigner, signPayload } from './protocol/signing/envelope.js'
import { recoverAddressBytes } from './protocol/signing/secp256k1.js'
import { SnapshotValidator, createOperatorSet } from './node/gossip/validator.js'
import { GossipType } from './protocol/topics.js'
import { TEST_KEYS, makeWireHealthSnapshot } from './test/unit/gossip/fixtures.js'
import { Store } from './node/store/store.js'
const sep = createDomainSeparator({})
const op = createOperatorSigner(TEST_KEYS[0])
const now = Date.now()
const msgs = Array.from({ length: 100 }, (_, i) => signPayload({ kind: PayloadKind.healthSnapshot, snapshot: makeWireHealthSnapshot({ n: 500, seed: 'p' + (i % 4), blockNumber: BigInt(100 + i), observedAt: now }) }, op, sep))
console.log('bytes', msgs[0].bytes.length)
const time = (label: string, f: (i: number) => void, n = 100) => { const t = performance.now(); for (let i = 0; i < n; i++) f(i); console.log(label, ((performance.now() - t) / n).toFixed(3), 'ms') }
time('decodeEnvelope', (i) => decodeEnvelope(msgs[i].bytes))
const envs = msgs.map((m) => decodeEnvelope(m.bytes))
time('pb decode only', (i) => protoTypes.HealthSnapshot.decode(envs[i].payload))
const dec = envs.map((e) => protoTypes.HealthSnapshot.decode(e.payload))
time('pb encode only', (i) => protoTypes.HealthSnapshot.encode(dec[i]).finish())
time('decodeHealthSnapshot', (i) => decodeHealthSnapshot(envs[i].payload))
const snaps = envs.map((e) => decodeHealthSnapshot(e.payload))
time('accountsHash', (i) => healthAccountsHash(snaps[i].accounts))
time('digest', (i) => healthSnapshotDigest(sep, snaps[i]))
time('recover', (i) => recoverAddressBytes(msgs[i].digest, envs[i].signature))
const v = new SnapshotValidator({ domainSeparator: sep, operators: createOperatorSet([op.address]) })
const outs: any[] = []
time('validate', (i) => outs.push(v.validate(GossipType.health, 31337, msgs[i].bytes)))
const store = new Store({ path: '/tmp/liqnet-prof-store' })
await store.open()
time('acceptedOps', (i) => store.acceptedOps([outs[i].accepted]))
let t = performance.now()
for (let i = 0; i < 100; i += 10) await store.writeAccepted(outs.slice(i, i + 10).map((o) => o.accepted))
console.log('write batch of 10 msgs', ((performance.now() - t) / 10).toFixed(2), 'ms')
await store.close()
