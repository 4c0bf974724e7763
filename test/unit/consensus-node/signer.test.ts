import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, hexToBytes, keccak256, recoverTypedDataAddress } from 'viem'
import { devnetOperatorKeys } from '../../../chains/devnet/operators.js'
import { MessageKind, makeMessage, qbftMessageDigest, recoverQbftSigner } from '../../../protocol/consensus/index.js'
import { commitSealTypedData, encodeSettlementPlan, sealDomainSeparator, settlementPlanDigest } from '../../../protocol/settlement/plan.js'
import { PlanSealer, SettlementPlanHeightError, createProtectedSign } from '../../../node/consensus/signer.js'
import { ProtectedKind, RefusalCode, SigningProtection, SigningRefusedError } from '../../../node/consensus/protection.js'
import { HUB, testPlan, testValues } from '../../integration/consensus/helpers.js'

describe('consensus signer and commit sealer (node/consensus/signer)', () => {
  let dir: string
  let protection: SigningProtection
  const [op] = devnetOperatorKeys(1)
  const key = hexToBytes(op.privateKey)
  const domain = { chainId: BigInt(HUB.chainId), verifyingContract: HUB.address }
  const sep = sealDomainSeparator(domain)
  const values = testValues()
  const valueOf = (h: bigint, tag = 'x') => hexToBytes(encodeSettlementPlan(testPlan(h, tag)))

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'liqnet-signer-'))
    protection = await SigningProtection.open({ path: join(dir, 'p'), operator: op.address, domainSeparator: sep })
    protection.setLocalHeight(3n)
  })
  afterEach(async () => {
    await protection.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('signs QBFT messages after recording them, and refuses a conflicting one', async () => {
    const sign = createProtectedSign(protection, key)
    const m = makeMessage(MessageKind.prepare, 3n, 0, keccak256(valueOf(3n)))
    const res = await sign({ message: m, digest: qbftMessageDigest(sep, m) })
    assert.ok(res.ok)
    assert.equal(recoverQbftSigner(sep, { message: m, signer: op.address.toLowerCase() as `0x${string}`, signature: res.signature }), op.address.toLowerCase())
    assert.deepEqual(protection.watermark(ProtectedKind.prepare), { height: 3n, round: 0 })
    const m2 = makeMessage(MessageKind.prepare, 3n, 0, keccak256(valueOf(3n, 'y')))
    assert.deepEqual(await sign({ message: m2, digest: qbftMessageDigest(sep, m2) }), { ok: false, reason: RefusalCode.EQUIVOCATION })
    const far = makeMessage(MessageKind.prepare, 9n, 0, keccak256(valueOf(9n)))
    assert.deepEqual(await sign({ message: far, digest: qbftMessageDigest(sep, far) }), { ok: false, reason: RefusalCode.TOO_FAR_AHEAD })
  })

  it('seals settlement plans as the hub verifies them; a COMMIT records its seal in the same write', async () => {
    const sealer = new PlanSealer({ values, domainSeparator: sep, privateKey: key, protection })
    const value = valueOf(3n)
    const planDigest = settlementPlanDigest(testPlan(3n))
    assert.equal(sealer.planDigest(value), planDigest)
    const sign = createProtectedSign(protection, key, undefined, (d) => sealer.cachedPlanDigest(d))
    const commit = makeMessage(MessageKind.commit, 3n, 0, keccak256(value))
    assert.ok((await sign({ message: commit, digest: qbftMessageDigest(sep, commit) })).ok)
    // The seal was recorded with the COMMIT.
    assert.deepEqual(protection.export().data[0].signed_seals, [{ height: '3', plan_digest: planDigest }])
    const seal = await sealer.seal(3n, value)
    const signer = await recoverTypedDataAddress({ ...commitSealTypedData(domain, 3n, planDigest), signature: bytesToHex(seal) })
    assert.equal(signer, op.address)
    assert.equal(sealer.verify(3n, value, seal, op.address), true)
    assert.equal(sealer.verify(4n, value, seal, op.address), false)
    assert.equal(sealer.verify(3n, value, seal, '0x0000000000000000000000000000000000000001'), false)
    assert.equal(sealer.verify(3n, new Uint8Array([1, 2, 3]), seal, op.address), false)
    // Another plan at the same height: refused.
    await assert.rejects(sealer.seal(3n, valueOf(3n, 'y')), (e: SigningRefusedError) => e.code === RefusalCode.SEAL_CONFLICT)
    // A value whose plan carries another height: refused before any record.
    await assert.rejects(sealer.seal(4n, valueOf(5n)), SettlementPlanHeightError)
  })
})
