/**
 * Gas of the settlement contracts on the three-chain settlement devnet (scenarios/devnet/settlement.yaml), after
 * its -20% WETH shock:
 * - `submitPlan` by operator set (4, 7, 16 operators, quorum 2f+1 seals) and by number of remote legs (1, 4, 16):
 *   seal verification, recording and one LayerZero send per leg (a hub per operator set, all sending to alpha's spoke);
 * - one leg's execution on a spoke: the whole `EndpointV2.lzReceive` transaction (leg, swaps, receipt sent back), for a
 *   Morpho Blue leg, an Aave V3 leg (flash loan), and a failing leg (healthy again: failure receipt);
 * - one leg executed locally by the hub (`submitPlan` with one own-chain leg, 3 seals).
 *
 * `npm run bench -- settlement-gas` prints one JSON line per figure, e.g.
 * `{"bench":"settlement-gas","what":"submitPlan","operators":7,"seals":5,"legs":4,"gasUsed":...}`.
 */
import { parseEther, parseUnits, type Address, type Hex } from 'viem'
import { liquidationHubAbi } from '../../contracts/out/abis.js'
import { lzReceiveOptions, addressToBytes32 } from '../../chains/bridges/layerzero/index.js'
import { applyPriceSteps, devnetClient, startDevnet } from '../../chains/devnet/devnet.js'
import { TxPipeline } from '../../chains/devnet/deploy/common.js'
import { devnetOperatorKeys, quorumOf } from '../../chains/devnet/operators.js'
import type { DevnetChain } from '../../chains/devnet/types.js'
import { repoRoot } from '../../contracts/artifacts.js'
import type { SettlementLeg, SettlementPlan } from '../../protocol/settlement/plan.js'
import { aaveWethLeg, deliver, morphoWethLeg, sealPlan, spokeOf, submitPlan } from '../integration/settlement-contracts/helpers.js'
import { join } from 'node:path'

const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'settlement-gas', ...o })}\n`)

export async function run(_args: string[]): Promise<void> {
  const devnet = await startDevnet({ scenario: join(repoRoot, 'scenarios', 'devnet', 'settlement.yaml'), log: () => {} })
  try {
    const [hub, alpha] = devnet.chains as [DevnetChain, DevnetChain, DevnetChain]
    await applyPriceSteps(devnet, devnet.scenario.pricePath)
    const deadline = (await devnetClient(hub).getBlock()).timestamp + 3600n
    const me = hub.accounts.deployer.address
    const submitter = hub.accounts.liquidator.address

    const morphoLeg = (c: DevnetChain, seq: number, borrower: string, seized: bigint) => morphoWethLeg(c, seq, borrower, seized, { deadline })
    const aaveLeg = (c: DevnetChain, seq: number, borrower: string) => aaveWethLeg(c, seq, borrower, parseUnits('1000', 6), parseEther('0.43'), { deadline })

    // submitPlan: one hub per operator set on the hub chain, each wired to alpha's spoke (legs sent, not delivered).
    const client = devnetClient(hub)
    const template = await morphoLeg(alpha, 0, 'morpho-below', parseEther('0.1'))
    let height = 1_000n
    for (const n of [4, 7, 16]) {
      const ops = devnetOperatorKeys(n)
      const quorum = quorumOf(n)
      const tx = await new TxPipeline({ client, account: { address: me, type: 'json-rpc' } }).init()
      const h = tx.deploy('LiquidationHub', [hub.deployment.layerzero.endpoint, me, ops.map((o) => o.address), quorum, hub.deployment.settlement.reserve], { gas: 8_000_000n })
      tx.call({ address: h, abi: liquidationHubAbi, functionName: 'setPeer', args: [alpha.eid, addressToBytes32(spokeOf(alpha))], gas: 200_000n })
      tx.call({ address: h, abi: liquidationHubAbi, functionName: 'setEnforcedOptions', args: [[{ eid: alpha.eid, msgType: 1, options: lzReceiveOptions(2_000_000n) }]], gas: 200_000n })
      await tx.flush()
      const hubChain = { ...hub, deployment: { ...hub.deployment, settlement: { ...hub.deployment.settlement, hub: h as Address } } }
      for (const legs of [1, 4, 16]) {
        const plan: SettlementPlan = { height: height++, legs: Array.from({ length: legs }, (_, i) => ({ ...template, seq: i })) }
        const seals = sealPlan(plan, hubChain, ops.slice(0, quorum).map((o) => o.privateKey as Hex))
        const r = await submitPlan(hubChain, plan, seals, submitter)
        print({ what: 'submitPlan', operators: n, seals: quorum, legs, gasUsed: Number(r.gasUsed) })
      }
    }

    // One leg on a spoke: the lzReceive transaction (leg + swaps + receipt back to the hub).
    const legsOnSpoke: [string, SettlementLeg][] = [
      ['morpho', await morphoLeg(alpha, 0, 'morpho-below', parseEther('0.5'))],
      ['aave', await aaveLeg(alpha, 1, 'aave-below')],
      ['morpho-healthy-failed', await morphoLeg(alpha, 2, 'morpho-above', parseEther('0.1'))],
    ]
    const keys = devnetOperatorKeys(4).map((k) => k.privateKey)
    for (const [kind, l] of legsOnSpoke) {
      const plan: SettlementPlan = { height: height++, legs: [{ ...l, seq: 0 }] }
      const sent = await submitPlan(hub, plan, sealPlan(plan, hub, keys.slice(0, 3)), submitter)
      const [r] = await deliver(sent, alpha)
      print({ what: 'spokeLeg', protocol: kind, lzReceiveTxGasUsed: Number(r.gasUsed), submitPlanGasUsed: Number(sent.gasUsed) })
    }

    // One leg executed by the hub itself.
    for (const [kind, l] of [
      ['morpho', await morphoLeg(hub, 0, 'morpho-below', parseEther('0.5'))],
      ['aave', await aaveLeg(hub, 0, 'aave-below')],
    ] as const) {
      const plan: SettlementPlan = { height: height++, legs: [l] }
      const r = await submitPlan(hub, plan, sealPlan(plan, hub, keys.slice(0, 3)), submitter)
      print({ what: 'hubLocalLeg', protocol: kind, seals: 3, submitPlanGasUsed: Number(r.gasUsed) })
    }
  } finally {
    await devnet.stop()
  }
}
