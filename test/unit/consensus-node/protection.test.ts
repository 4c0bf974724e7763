import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, toHex, type Hex } from 'viem'
import {
  ProtectedKind,
  RefusalCode,
  SigningProtection,
  SigningProtectionImportError,
  SigningProtectionMismatchError,
  SigningRefusedError,
  type ProtectedSignature,
} from '../../../node/consensus/protection.js'

const operator = '0x1111111111111111111111111111111111111111'
const other = '0x2222222222222222222222222222222222222222'
const domain = keccak256(toHex('network-a'))
const d = (s: string): Hex => keccak256(toHex(s))

const prepare = (height: bigint, round: number, digest: Hex): ProtectedSignature => ({ kind: ProtectedKind.prepare, height, round, digest })
const commit = (height: bigint, round: number, digest: Hex): ProtectedSignature => ({ kind: ProtectedKind.commit, height, round, digest })
const seal = (height: bigint, digest: Hex): ProtectedSignature => ({ kind: ProtectedKind.seal, height, digest })

async function refused(p: SigningProtection, reqs: ProtectedSignature[]): Promise<RefusalCode> {
  try {
    await p.guard(reqs)
  } catch (err) {
    assert.ok(err instanceof SigningRefusedError, String(err))
    return err.code
  }
  assert.fail('expected a refusal')
}

describe('signing protection (node/consensus/protection)', () => {
  let dir: string
  const open = (path: string, extra: Partial<Parameters<typeof SigningProtection.open>[0]> = {}) =>
    SigningProtection.open({ path: join(dir, path), operator, domainSeparator: domain, ...extra })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'liqnet-protection-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('refuses a conflicting PREPARE, COMMIT or seal, allows the same digest again, and survives reopening', async () => {
    const refusals: RefusalCode[] = []
    let p = await open('a', { onRefused: (c) => refusals.push(c) })
    p.setLocalHeight(5n)
    await p.guard([prepare(5n, 0, d('x'))])
    await p.guard([commit(5n, 0, d('x')), seal(5n, d('plan-x'))])
    // Same digest again: idempotent (a re-broadcast after a restart).
    await p.guard([prepare(5n, 0, d('x'))])
    assert.equal(await refused(p, [prepare(5n, 0, d('y'))]), RefusalCode.EQUIVOCATION)
    assert.equal(await refused(p, [seal(5n, d('plan-y'))]), RefusalCode.SEAL_CONFLICT)
    assert.deepEqual(refusals, [RefusalCode.EQUIVOCATION, RefusalCode.SEAL_CONFLICT])
    await p.close()

    // After a restart (reopen) the record still refuses.
    p = await open('a')
    p.setLocalHeight(5n)
    assert.equal(await refused(p, [prepare(5n, 0, d('y'))]), RefusalCode.EQUIVOCATION)
    assert.equal(await refused(p, [commit(5n, 0, d('y'))]), RefusalCode.EQUIVOCATION)
    // A seal for another plan at height 5 is refused whatever the round it would come from.
    assert.equal(await refused(p, [seal(5n, d('plan-y'))]), RefusalCode.SEAL_CONFLICT)
    await p.guard([seal(5n, d('plan-x'))])
    // Lower rounds / heights than already signed: STALE.
    await p.guard([prepare(5n, 3, d('z'))])
    assert.equal(await refused(p, [prepare(5n, 1, d('w'))]), RefusalCode.STALE)
    assert.equal(await refused(p, [prepare(4n, 9, d('w'))]), RefusalCode.STALE)
    assert.equal(await refused(p, [seal(4n, d('plan-w'))]), RefusalCode.STALE)
    await p.close()
  })

  it('refuses heights more than maxHeightsAhead above its own, and everything once closed', async () => {
    const p = await open('b', { maxHeightsAhead: 2n })
    p.setLocalHeight(10n)
    await p.guard([prepare(12n, 0, d('a'))])
    assert.equal(await refused(p, [prepare(13n, 0, d('a'))]), RefusalCode.TOO_FAR_AHEAD)
    assert.equal(await refused(p, [seal(100n, d('a'))]), RefusalCode.TOO_FAR_AHEAD)
    await p.close()
    assert.equal(await refused(p, [prepare(12n, 0, d('a'))]), RefusalCode.CLOSED)
  })

  it('is atomic: a group with one refused request records none of them; concurrent conflicting requests: one wins', async () => {
    const p = await open('c')
    p.setLocalHeight(1n)
    await p.guard([seal(1n, d('p1'))])
    assert.equal(await refused(p, [commit(1n, 0, d('v2')), seal(1n, d('p2'))]), RefusalCode.SEAL_CONFLICT)
    // The COMMIT of the refused group was not recorded.
    await p.guard([commit(1n, 0, d('v1'))])
    // Two conflicting requests in flight at once: exactly one passes.
    const results = await Promise.allSettled([p.guard([prepare(1n, 1, d('a'))]), p.guard([prepare(1n, 1, d('b'))])])
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
    await p.close()
  })

  it('refuses to open a record made for another operator or network', async () => {
    const p = await open('d')
    await p.close()
    await assert.rejects(SigningProtection.open({ path: join(dir, 'd'), operator: other, domainSeparator: domain }), SigningProtectionMismatchError)
    await assert.rejects(SigningProtection.open({ path: join(dir, 'd'), operator, domainSeparator: d('network-b') }), SigningProtectionMismatchError)
  })

  it('export → import into a fresh record gives the same refusals (EIP-3076 style interchange)', async () => {
    const a = await open('e')
    a.setLocalHeight(7n)
    await a.guard([{ kind: ProtectedKind.proposal, height: 7n, round: 0, digest: d('v') }])
    await a.guard([prepare(7n, 0, d('v'))])
    await a.guard([commit(7n, 0, d('v')), seal(7n, d('plan-v'))])
    await a.guard([prepare(8n, 1, d('u'))])
    const doc = JSON.parse(JSON.stringify(a.export()))
    assert.equal(doc.metadata.interchange_format, 'liqnet.signing-protection')
    assert.equal(doc.data[0].signed_messages.length, 4)
    assert.deepEqual(doc.data[0].signed_seals, [{ height: '7', plan_digest: d('plan-v') }])
    await a.close()

    const b = await open('f')
    const summary = await b.import(doc)
    assert.deepEqual(summary, { added: 5, unchanged: 0, conflicts: 0, skippedOperators: [] })
    b.setLocalHeight(8n)
    assert.equal(await refused(b, [{ kind: ProtectedKind.proposal, height: 7n, round: 0, digest: d('w') }]), RefusalCode.EQUIVOCATION)
    assert.equal(await refused(b, [prepare(7n, 0, d('w'))]), RefusalCode.EQUIVOCATION)
    assert.equal(await refused(b, [commit(7n, 0, d('w'))]), RefusalCode.EQUIVOCATION)
    assert.equal(await refused(b, [seal(7n, d('plan-w'))]), RefusalCode.SEAL_CONFLICT)
    assert.equal(await refused(b, [prepare(8n, 0, d('w'))]), RefusalCode.STALE)
    await b.guard([prepare(8n, 1, d('u'))])
    await b.close()
    // The imported record is persisted.
    const c = await open('f')
    c.setLocalHeight(8n)
    assert.equal(await refused(c, [seal(7n, d('plan-w'))]), RefusalCode.SEAL_CONFLICT)
    await c.close()
  })

  it('import merges by keeping the most restrictive record: conflicting digests and unknown digests block the key', async () => {
    const p = await open('g')
    p.setLocalHeight(3n)
    await p.guard([prepare(3n, 0, d('mine'))])
    const doc = {
      metadata: { interchange_format: 'liqnet.signing-protection', interchange_format_version: '1', domain_separator: domain },
      data: [
        {
          operator,
          signed_messages: [
            { kind: 'PREPARE', height: '3', round: '0', digest: d('theirs') },
            { kind: 'COMMIT', height: '3', round: '0' },
            { kind: 'PREPARE', height: '9', round: '2', digest: d('later') },
          ],
          signed_seals: [{ height: '2', plan_digest: d('p2') }],
        },
        { operator: other, signed_messages: [], signed_seals: [] },
      ],
    }
    const s = await p.import(doc)
    assert.deepEqual(s, { added: 3, unchanged: 0, conflicts: 1, skippedOperators: [other] })
    p.setLocalHeight(9n)
    // Both digests of the conflicting key are refused now, and the unknown-digest COMMIT blocks its key.
    assert.equal(await refused(p, [prepare(3n, 0, d('mine'))]), RefusalCode.BLOCKED)
    assert.equal(await refused(p, [prepare(3n, 0, d('theirs'))]), RefusalCode.BLOCKED)
    assert.equal(await refused(p, [commit(3n, 0, d('any'))]), RefusalCode.BLOCKED)
    // The watermark is the highest of both records.
    assert.equal(await refused(p, [prepare(9n, 1, d('x'))]), RefusalCode.STALE)
    assert.deepEqual(p.watermark(ProtectedKind.prepare), { height: 9n, round: 2 })
    // Importing the same document again changes nothing.
    const again = await p.import(doc)
    assert.equal(again.added, 0)
    assert.equal(again.conflicts, 0)
    // Export keeps blocked keys as records without a digest.
    const out = p.export().data[0].signed_messages.filter((m) => m.height === '3')
    assert.deepEqual(out.map((m) => [m.kind, m.digest]), [['PREPARE', undefined], ['COMMIT', undefined]])
    await p.close()
  })

  it('rejects malformed or foreign interchange documents, naming the field', async () => {
    const p = await open('h')
    const base = { metadata: { interchange_format: 'liqnet.signing-protection', interchange_format_version: '1', domain_separator: domain }, data: [] }
    await assert.rejects(p.import({ ...base, metadata: { ...base.metadata, domain_separator: d('other') } }), (e: SigningProtectionImportError) => e.field === 'metadata.domain_separator')
    await assert.rejects(p.import({ ...base, metadata: { ...base.metadata, interchange_format_version: '2' } }), (e: SigningProtectionImportError) => e.field === 'metadata.interchange_format_version')
    await assert.rejects(
      p.import({ ...base, data: [{ operator, signed_messages: [{ kind: 'PREPARE', height: '-1', round: '0' }], signed_seals: [] }] }),
      (e: SigningProtectionImportError) => e.field === 'data.0.signed_messages.0.height',
    )
    await assert.rejects(
      p.import({ ...base, data: [{ operator, signed_messages: [{ kind: 'PREPARE', height: '18446744073709551616', round: '0' }], signed_seals: [] }] }),
      SigningProtectionImportError,
    )
    await assert.rejects(p.import('not json'), SigningProtectionImportError)
    await p.close()
  })

  it('prunes exact records far below its height but keeps the watermark', async () => {
    const p = await open('i', { keepHeights: 4n })
    for (let h = 1n; h <= 10n; h++) {
      p.setLocalHeight(h)
      await p.guard([prepare(h, 0, d(`v${h}`))])
    }
    p.setLocalHeight(10n)
    assert.equal(await p.prune(), 5)
    assert.equal(p.export().data[0].signed_messages.length, 5)
    // Pruned heights are still refused (STALE, below the watermark).
    assert.equal(await refused(p, [prepare(2n, 0, d('v2'))]), RefusalCode.STALE)
    await p.close()
  })
})
