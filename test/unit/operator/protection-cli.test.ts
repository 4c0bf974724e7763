import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { keccak256, toHex, type Address, type Hex } from 'viem'
import { initNode } from '../../../node/cli/init.js'
import { registerProtection } from '../../../node/cli/protection.js'
import { ProtectedKind, RefusalCode, SigningProtection, SigningProtectionImportError, SigningRefusedError } from '../../../node/consensus/protection.js'
import { sealDomainSeparator } from '../../../protocol/settlement/plan.js'

const hub: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const d = (s: string): Hex => keccak256(toHex(s))

async function run(args: string[]): Promise<void> {
  const program = new Command().exitOverride()
  registerProtection(program)
  await program.parseAsync(['node', 'liqnet', ...args])
}

describe('liqnet protection export|import (a node moving machines)', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'liqnet-protection-cli-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('exports the record of one machine and imports it on another: the new machine refuses the same conflicts', async () => {
    const pw = join(dir, 'pw')
    writeFileSync(pw, 'correct horse\n')
    const overrides = { 'network.hubChainId': '31337', 'network.hub': hub }
    const a = await initNode({ dir: join(dir, 'a'), passwordFile: pw, kdf: 'insecure-test', overrides })
    // The second machine gets the same keystore (the operator moves); its record starts empty.
    const b = join(dir, 'b')
    mkdirSync(b)
    writeFileSync(join(b, 'keystore.json'), readFileSync(a.keystoreFile))
    assert.equal((await initNode({ dir: b, passwordFile: pw, kdf: 'insecure-test', overrides })).operator, a.operator)
    const domainSeparator = sealDomainSeparator({ chainId: 31337n, verifyingContract: hub })
    const open = (node: string) => SigningProtection.open({ path: join(node, 'data', 'consensus', 'protection'), operator: a.operator, domainSeparator })

    const first = await open(join(dir, 'a'))
    first.setLocalHeight(5n)
    await first.guard([{ kind: ProtectedKind.prepare, height: 5n, round: 0, digest: d('x') }])
    await first.guard([{ kind: ProtectedKind.commit, height: 5n, round: 0, digest: d('x') }, { kind: ProtectedKind.seal, height: 5n, digest: d('plan-x') }])
    await first.close()

    const file = join(dir, 'record.json')
    await run(['protection', 'export', '--config', a.configFile, '--out', file])
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    assert.equal(doc.data[0].operator.toLowerCase(), a.operator.toLowerCase())
    assert.equal(doc.data[0].signed_messages.length, 2)

    await run(['protection', 'import', '--config', join(b, 'liqnet.yaml'), '--in', file])
    const second = await open(b)
    second.setLocalHeight(5n)
    try {
      await assert.rejects(second.guard([{ kind: ProtectedKind.prepare, height: 5n, round: 0, digest: d('y') }]), (err: unknown) => err instanceof SigningRefusedError && err.code === RefusalCode.EQUIVOCATION)
      await assert.rejects(second.guard([{ kind: ProtectedKind.seal, height: 5n, digest: d('plan-y') }]), SigningRefusedError)
      // What was signed before may be signed again (a resend), nothing else.
      await second.guard([{ kind: ProtectedKind.prepare, height: 5n, round: 0, digest: d('x') }])
    } finally {
      await second.close()
    }
    writeFileSync(join(dir, 'garbage.json'), '{ not json')
    await assert.rejects(run(['protection', 'import', '--config', join(b, 'liqnet.yaml'), '--in', join(dir, 'garbage.json')]), SigningProtectionImportError)
  })
})
