import { bytesToHex, type Address, type Hex } from 'viem'
import { mnemonicToAccount, type HDKey } from 'viem/accounts'
import { BaseError } from '../../protocol/errors.js'
import { accountOf } from './accounts.js'

/**
 * Devnet operator keys. DEVNET ONLY: they come from anvil's public test mnemonic
 * ("test test test test test test test test test test test junk") at BIP-44 paths
 * m/44'/60'/0'/0/{100 + i}, so anyone can sign with them. The devnet's LiquidationHub
 * registers the first n of them as its operator set, with quorum 2f+1.
 */

/** anvil's default test mnemonic (public). */
export const DEVNET_MNEMONIC = 'test test test test test test test test test test test junk'
/** HD index of devnet operator 0. */
export const DEVNET_OPERATOR_FIRST_INDEX = 100
/** Most devnet operators (HD indices 100..355). */
export const DEVNET_MAX_OPERATORS = 256

/** An operator count outside 1..DEVNET_MAX_OPERATORS. */
export class DevnetOperatorCountError extends BaseError {
  override name = 'DevnetOperatorCountError'
  constructor(n: number) {
    super(`Invalid devnet operator count ${n}.`, { metaMessages: [`Ask for an integer from 1 to ${DEVNET_MAX_OPERATORS}.`] })
  }
}

let parent: HDKey | undefined
const derived: { privateKey: Hex; address: Address }[] = []

/**
 * The keys of devnet operators 0..n-1 (anvil's test mnemonic, HD indices 100..100+n-1), in index order.
 * Deterministic: the same n gives the same keys on every machine and run. Memoised (BIP-39 seeding runs once).
 * @throws DevnetOperatorCountError unless 1 ≤ n ≤ 256.
 */
export function devnetOperatorKeys(n: number): { privateKey: Hex; address: Address }[] {
  if (!Number.isInteger(n) || n < 1 || n > DEVNET_MAX_OPERATORS) throw new DevnetOperatorCountError(n)
  parent ??= mnemonicToAccount(DEVNET_MNEMONIC, { path: "m/44'/60'/0'/0" as `m/44'/60'/${string}` }).getHdKey()
  for (let i = derived.length; i < n; i++) {
    const key = parent.deriveChild(DEVNET_OPERATOR_FIRST_INDEX + i).privateKey
    if (!key) throw new DevnetOperatorCountError(n)
    const privateKey = bytesToHex(key)
    derived.push({ privateKey, address: accountOf(privateKey).address })
  }
  return derived.slice(0, n).map((k) => ({ ...k }))
}

/** f = floor((n-1)/3) faults tolerated by n operators; the quorum is 2f+1. */
export function quorumOf(n: number): number {
  return 2 * Math.floor((n - 1) / 3) + 1
}
