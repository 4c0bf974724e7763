/**
 * Devnet operator keys and the scenario's `network` section (no chain needed).
 */
import { strict as assert } from 'node:assert'
import { mnemonicToAccount } from 'viem/accounts'
import { DEVNET_MNEMONIC, DevnetOperatorCountError, devnetOperatorKeys, quorumOf } from '../../../chains/devnet/operators.js'
import { InvalidScenarioError, parseScenario } from '../../../chains/devnet/scenario.js'

const chain = (name: string, chainId: number) => ({ name, chainId, eid: 40_000 + chainId, tokens: [{ symbol: 'USDC', decimals: 6, priceUsd: '1' }] })

describe('devnet operators and the network section', () => {
  it('derives operator keys from the test mnemonic at HD indices 100.., deterministically', () => {
    const keys = devnetOperatorKeys(7)
    assert.equal(keys.length, 7)
    assert.equal(keys[0].address, mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 100 }).address)
    assert.equal(keys[6].address, mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 106 }).address)
    assert.deepEqual(devnetOperatorKeys(3), keys.slice(0, 3))
    assert.equal(new Set(keys.map((k) => k.address)).size, 7)
    assert.throws(() => devnetOperatorKeys(0), DevnetOperatorCountError)
    assert.throws(() => devnetOperatorKeys(1.5), DevnetOperatorCountError)
  })

  it('quorum is 2f+1 with f = floor((n-1)/3)', () => {
    assert.deepEqual([1, 3, 4, 5, 7, 10, 16].map(quorumOf), [1, 1, 3, 3, 5, 7, 11])
  })

  it('defaults the network section and checks the hub chain', () => {
    const s = parseScenario({ chains: [chain('a', 1), chain('b', 2)] })
    assert.deepEqual(s.network, { operators: 4, legGas: 2_000_000, receiptGas: 300_000, spokeEth: '10', floatUsd: '250000' })
    assert.equal(parseScenario({ chains: [chain('a', 1), chain('b', 2)], network: { operators: 7, hub: 'b' } }).network.hub, 'b')
    assert.throws(() => parseScenario({ chains: [chain('a', 1)], network: { hub: 'zeta' } }), (err: unknown) => err instanceof InvalidScenarioError && /network\.hub/.test(String((err as Error).message + JSON.stringify((err as InvalidScenarioError).metaMessages))))
    assert.throws(() => parseScenario({ chains: [chain('a', 1)], network: { operators: 0 } }), InvalidScenarioError)
    assert.throws(() => parseScenario({ chains: [chain('a', 1)], network: { quorum: 3 } }), InvalidScenarioError)
  })
})
