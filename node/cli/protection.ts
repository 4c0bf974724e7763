/**
 * `liqnet protection export|import`: moves a node's signing-protection record between machines, in the spirit of
 * EIP-3076 (the interchange format is in docs/signing-protection.md). Run it with the node stopped: the record is a
 * LevelDB that one process opens at a time.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Command } from 'commander'
import type { Address } from 'viem'
import { BaseError } from '../../protocol/errors.js'
import { sealDomainSeparator } from '../../protocol/settlement/plan.js'
import { addConfigOptions, loadConfigFromCli } from '../config/cli.js'
import type { NodeConfig } from '../config/schema.js'
import { SigningProtection, SigningProtectionImportError } from '../consensus/protection.js'
import { keystoreAddress, readKeystoreFile } from '../keystore/keystore.js'

/** The config lacks what names the record (the hub, or the operator). */
export class ProtectionConfigError extends BaseError {
  override name = 'ProtectionConfigError'
  constructor(what: string) {
    super(`Cannot open the signing-protection record: ${what}.`, { metaMessages: ['Use the config the node runs with (liqnet start --config).'] })
  }
}

/** Opens the record the daemon keeps under `<dataDir>/consensus/protection`. @throws ProtectionConfigError, SigningProtectionOpenError */
async function openRecord(config: NodeConfig): Promise<SigningProtection> {
  const { hubChainId, hub } = config.network
  if (hubChainId === undefined || hub === undefined) throw new ProtectionConfigError('network.hubChainId and network.hub must be set')
  const operator = (config.operator.address as Address | undefined) ?? keystoreAddress(await readKeystoreFile(config.operator.keystore))
  if (!operator) throw new ProtectionConfigError('set operator.address, or give a keystore with an address field')
  return SigningProtection.open({
    path: join(config.dataDir, 'consensus', 'protection'),
    operator,
    domainSeparator: sealDomainSeparator({ chainId: BigInt(hubChainId), verifyingContract: hub as Address }),
  })
}

/** Adds `liqnet protection export` and `liqnet protection import`. */
export function registerProtection(program: Command): void {
  const protection = program
    .command('protection')
    .description('Export or import the signing-protection record (what this operator signed, per height and round), to move a node to another machine. Stop the node first.')
  const exportCmd = protection
    .command('export')
    .description('Write the record as an interchange document (JSON, docs/signing-protection.md).')
    .requiredOption('--out <file>', 'file to write')
  addConfigOptions(exportCmd)
  exportCmd.action(async (opts: Record<string, unknown>) => {
    const { config } = loadConfigFromCli(opts)
    const record = await openRecord(config)
    try {
      const doc = record.export()
      await writeFile(String(opts.out), JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 })
      const [entry] = doc.data
      process.stdout.write(`exported ${entry?.signed_messages.length ?? 0} messages and ${entry?.signed_seals.length ?? 0} seals to ${String(opts.out)}\n`)
    } finally {
      await record.close()
    }
  })
  const importCmd = protection
    .command('import')
    .description('Merge an interchange document into the record; the most restrictive of both wins (conflicting keys become blocked).')
    .requiredOption('--in <file>', 'interchange document to read')
  addConfigOptions(importCmd)
  importCmd.action(async (opts: Record<string, unknown>) => {
    const { config } = loadConfigFromCli(opts)
    let doc: unknown
    try {
      doc = JSON.parse(await readFile(String(opts.in), 'utf8'))
    } catch (err) {
      throw new SigningProtectionImportError('document', `${String(opts.in)} is not a readable JSON file`, err)
    }
    const record = await openRecord(config)
    try {
      const s = await record.import(doc)
      process.stdout.write(`imported: ${s.added} added, ${s.unchanged} unchanged, ${s.conflicts} conflicts (blocked), ${s.skippedOperators.length} other operators skipped\n`)
    } finally {
      await record.close()
    }
  })
}
