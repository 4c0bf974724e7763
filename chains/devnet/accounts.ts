import { keccak256, stringToBytes, type Hex } from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'

/**
 * Devnet accounts. Every key here is public knowledge and worthless off the
 * devnet: the first three are anvil's default dev accounts (mnemonic
 * "test test test test test test test test test test test junk", indexes
 * 0, 1, 2), and borrower keys are derived from the borrower's name.
 */

/** anvil dev account 0: deploys and owns every devnet contract. */
export const DEPLOYER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
/** anvil dev account 1: a funded liquidator. */
export const LIQUIDATOR_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
/** anvil dev account 2: the LayerZero relayer (DVN + executor), SimpleMessageLib's whitelisted caller. */
export const RELAYER_KEY: Hex = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'

/**
 * Private key of a scenario borrower: keccak256("liqnet-devnet/borrower/" + name).
 * The same name gives the same account on every chain and every run.
 */
export function borrowerKey(name: string): Hex {
  return keccak256(stringToBytes(`liqnet-devnet/borrower/${name}`))
}

const cache = new Map<Hex, PrivateKeyAccount>()

/** A viem local account for `key` (memoised: deriving the address costs a scalar multiplication). */
export function accountOf(key: Hex): PrivateKeyAccount {
  let a = cache.get(key)
  if (!a) {
    a = privateKeyToAccount(key)
    cache.set(key, a)
  }
  return a
}
