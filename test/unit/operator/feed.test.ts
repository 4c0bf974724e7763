import assert from 'node:assert/strict'
import { getAddress, hashTypedData, recoverTypedDataAddress, type Address, type Hex } from 'viem'
import { createDomainSeparator } from '../../../protocol/signing/eip712.js'
import { createOperatorSigner } from '../../../protocol/signing/envelope.js'
import {
  FeedSigner,
  agreeingViews,
  canonicalJson,
  distanceToLiquidationBps,
  erfc,
  feedItemDigest,
  feedItemTypedData,
  liquidationProbability,
  normalCdf,
  realizedVolatility,
  verifyFeedItem,
  SECONDS_PER_YEAR,
  StreamHub,
  STREAM_CLOSE,
  type PriceSample,
  type StreamSocket,
} from '../../../node/api/index.js'
import { TEST_KEYS } from '../gossip/fixtures.js'

const WAD = 10n ** 18n

/** Deterministic PRNG (mulberry32) and a Box–Muller normal. */
function rng(seed: number) {
  let a = seed >>> 0
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { u, normal: () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u()) }
}

describe('risk feed math', () => {
  it('distance to liquidation is 1 − 1/HF in bps, 0 when liquidatable, 10000 without debt', () => {
    assert.equal(distanceToLiquidationBps((5n * WAD) / 4n), 2000)
    assert.equal(distanceToLiquidationBps(2n * WAD), 5000)
    assert.equal(distanceToLiquidationBps(WAD), 0)
    assert.equal(distanceToLiquidationBps((9n * WAD) / 10n), 0)
    assert.equal(distanceToLiquidationBps((1n << 256n) - 1n), 10_000)
    assert.equal(distanceToLiquidationBps(WAD + 1n), 0)
  })

  it('normal CDF and erfc match reference values', () => {
    assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7)
    assert.ok(Math.abs(normalCdf(1.959963985) - 0.975) < 1e-6)
    assert.ok(Math.abs(normalCdf(-1) - 0.158655254) < 1e-6)
    assert.ok(Math.abs(erfc(0.5) - 0.479500122) < 1e-6)
  })

  it('first-passage probability is 2Φ(ln(1−d)/(σ√T)), monotone, and agrees with a simulated driftless log price', () => {
    assert.equal(liquidationProbability(0, 0.8, 86_400), 1)
    assert.equal(liquidationProbability(10_000, 0.8, 86_400), 0)
    const p = liquidationProbability(1000, 0.8, 86_400)
    const expected = 2 * normalCdf(Math.log(0.9) / (0.8 * Math.sqrt(86_400 / SECONDS_PER_YEAR)))
    assert.ok(Math.abs(p - expected) < 1e-12)
    assert.ok(liquidationProbability(500, 0.8, 86_400) > p && p > liquidationProbability(2000, 0.8, 86_400))
    assert.ok(liquidationProbability(1000, 1.2, 86_400) > p && liquidationProbability(1000, 0.8, 7 * 86_400) > p)
    // Monte Carlo: 4000 paths of 400 steps over 1 year at σ = 0.5, barrier −30 %.
    const r = rng(7)
    const sigma = 0.5
    const steps = 400
    const dt = 1 / steps
    let hits = 0
    const paths = 4000
    for (let i = 0; i < paths; i++) {
      let x = 0
      for (let s = 0; s < steps; s++) {
        x += sigma * Math.sqrt(dt) * r.normal()
        if (x <= Math.log(0.7)) {
          hits++
          break
        }
      }
    }
    const analytic = liquidationProbability(3000, sigma, SECONDS_PER_YEAR)
    // Discrete monitoring misses some crossings: the simulated rate is a little lower.
    assert.ok(hits / paths <= analytic + 0.03 && hits / paths > analytic - 0.08, `${hits / paths} vs ${analytic}`)
  })

  it('realized volatility recovers σ of a simulated series with irregular block times', () => {
    const r = rng(11)
    const sigma = 0.9
    const points: PriceSample[] = []
    let t = 1_700_000_000_000
    let logP = Math.log(2000)
    for (let i = 0; i < 2000; i++) {
      const dtMs = 6000 + Math.floor(r.u() * 12_000)
      t += dtMs
      logP += sigma * Math.sqrt(dtMs / 1000 / SECONDS_PER_YEAR) * r.normal()
      points.push({ blockNumber: BigInt(i), timestamp: t, price: BigInt(Math.round(Math.exp(logP) * 1e8)) })
    }
    const v = realizedVolatility(points, 8)!
    assert.equal(v.samples, 1999)
    assert.ok(Math.abs(v.sigma - sigma) / sigma < 0.06, String(v.sigma))
    assert.equal(realizedVolatility(points.slice(0, 5), 8), undefined)
    assert.equal(realizedVolatility([points[0], { ...points[1], timestamp: points[0].timestamp }], 1), undefined)
  })

  it('serves the view attested by the largest agreeing group at the newest block', () => {
    const op = (i: number) => getAddress(createOperatorSigner(TEST_KEYS[i]).address)
    const rows = [
      { id: 'x', blockNumber: 10n, operator: op(0), v: 'a' },
      { id: 'x', blockNumber: 11n, operator: op(1), v: 'b' },
      { id: 'x', blockNumber: 11n, operator: op(2), v: 'b' },
      { id: 'x', blockNumber: 11n, operator: op(3), v: 'c' },
      { id: 'y', blockNumber: 9n, operator: op(0), v: 'z' },
    ]
    const views = agreeingViews(rows, (r) => r.id, (r) => r.v)
    const x = views.find((w) => w.row.id === 'x')!
    assert.equal(x.row.v, 'b')
    assert.deepEqual(new Set(x.attestedBy), new Set([op(1), op(2)]))
    assert.deepEqual(views.find((w) => w.row.id === 'y')!.attestedBy, [op(0)])
  })
})

describe('feed item signatures', () => {
  const signer = createOperatorSigner(TEST_KEYS[5])
  const domain = { chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as Address }
  const sep = createDomainSeparator(domain)

  it('canonical JSON sorts keys, drops undefined, refuses bigint', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 0.25, y: -3 } }), '{"a":[true,null,"x"],"b":1,"d":{"y":-3,"z":0.25}}')
    assert.throws(() => canonicalJson({ a: 1n }))
    assert.throws(() => canonicalJson({ a: Number.NaN }))
  })

  it('the digest equals viem hashTypedData of FeedItem, and viem recovers the operator', async () => {
    const fs = new FeedSigner({ signer, domain, now: () => 1_700_000_000_123 })
    const item = fs.sign('account', { chainId: 1, healthFactor: '1000', risk: { probability: 0.125 } })
    const typed = feedItemTypedData(domain, 'account', item.proof.contentHash, item.proof.servedAt)
    assert.equal(Buffer.from(feedItemDigest(sep, 'account', item.proof.contentHash, item.proof.servedAt)).toString('hex'), hashTypedData(typed).slice(2))
    assert.equal(await recoverTypedDataAddress({ ...typed, signature: item.proof.signature }), getAddress(signer.address))
    assert.deepEqual(verifyFeedItem(item, sep, [signer.address]), { ok: true, signer: signer.address.toLowerCase() })
  })

  it('rejects tampered data, a wrong kind, a foreign domain, a forged operator and untrusted signers', () => {
    let t = 1000
    const fs = new FeedSigner({ signer, domain, now: () => t++ })
    const item = fs.sign('account', { healthFactor: '1200000000000000000', liquidatable: false })
    // Same content again: the cached proof, no new signature.
    assert.deepEqual(fs.sign('account', { liquidatable: false, healthFactor: '1200000000000000000' }).proof, item.proof)
    assert.deepEqual(verifyFeedItem({ ...item, data: { ...item.data, healthFactor: '2000000000000000000' } }, sep), { ok: false, reason: 'CONTENT_HASH_MISMATCH' })
    assert.deepEqual(verifyFeedItem({ ...item, kind: 'plan' }, sep), { ok: false, reason: 'BAD_SIGNATURE' })
    assert.deepEqual(verifyFeedItem(item, createDomainSeparator({ chainId: 1 })), { ok: false, reason: 'BAD_SIGNATURE' })
    assert.deepEqual(verifyFeedItem({ ...item, proof: { ...item.proof, operator: createOperatorSigner(TEST_KEYS[6]).address } }, sep), { ok: false, reason: 'BAD_SIGNATURE' })
    assert.deepEqual(verifyFeedItem({ ...item, proof: { ...item.proof, servedAt: item.proof.servedAt + 1 } }, sep), { ok: false, reason: 'BAD_SIGNATURE' })
    assert.deepEqual(verifyFeedItem(item, sep, [createOperatorSigner(TEST_KEYS[6]).address]), { ok: false, reason: 'UNTRUSTED_SIGNER' })
    assert.deepEqual(verifyFeedItem({ ...item, proof: { ...item.proof, signature: '0xzz' as Hex } }, sep), { ok: false, reason: 'MALFORMED' })
  })
})

describe('stream hub backpressure', () => {
  /** A socket whose queue only grows (a subscriber that never reads). */
  function stalledSocket() {
    const s = { readyState: 1, bufferedAmount: 0, sent: [] as string[], closed: undefined as number | undefined, terminated: false }
    const socket: StreamSocket & typeof s = Object.assign(s, {
      send(data: string) {
        s.sent.push(data)
        s.bufferedAmount += data.length
      },
      close(code?: number) {
        s.closed = code
        s.readyState = 2
      },
      terminate() {
        s.terminated = true
      },
    })
    return socket
  }

  it('drops a subscriber whose queue would pass the limit, keeps the others, and bounds subscribers', async () => {
    const drops: string[] = []
    const hub = new StreamHub({ maxSubscribers: 2, maxBufferedBytes: 2000, slowCloseGraceMs: 10, onDrop: (r) => drops.push(r) })
    const slow = stalledSocket()
    const fast = stalledSocket()
    hub.add(slow, {}, ['plan'])
    hub.add(fast, {}, ['plan'])
    const third = stalledSocket()
    assert.equal(hub.add(third, {}, ['plan']), undefined)
    assert.equal(third.closed, STREAM_CLOSE.tooManySubscribers)
    const item = { kind: 'plan' as const, data: { pad: 'x'.repeat(300) }, proof: { contentHash: '0x' as Hex, servedAt: 0, operator: signer0(), signature: '0x' as Hex } }
    for (let i = 0; i < 10; i++) {
      hub.publish(item)
      fast.bufferedAmount = 0 // the fast one reads everything
    }
    assert.equal(slow.closed, STREAM_CLOSE.slowConsumer)
    assert.ok(slow.bufferedAmount <= 2000)
    assert.equal(fast.sent.length, 10)
    assert.equal(hub.size, 1)
    await new Promise((r) => setTimeout(r, 30))
    assert.equal(slow.terminated, true)
    assert.deepEqual(drops, ['TOO_MANY_SUBSCRIBERS', 'SLOW_CONSUMER'])
  })
})

function signer0(): Address {
  return createOperatorSigner(TEST_KEYS[0]).address
}
