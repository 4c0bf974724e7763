/**
 * LiquidationHub + LiquidationSpoke on three anvil chains (scenarios/devnet/settlement.yaml: hub, alpha, beta), with
 * the real EndpointV2 + SimpleMessageLib, Morpho Blue, Aave V3 and Uniswap V2. Seals come from
 * protocol/settlement/plan.ts's signCommitSeal with the devnet operator keys.
 */
import { strict as assert } from 'node:assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { concatHex, hashTypedData, hexToBytes, keccak256, toHex, parseEther, parseUnits, stringToBytes, type Address, type Hex, type TransactionReceipt } from 'viem'
import { devnetERC20Abi, liquidationHubAbi, liquidationSpokeAbi } from '../../../contracts/out/abis.js'
import { applyPriceSteps, devnetClient, startDevnet } from '../../../chains/devnet/devnet.js'
import { TxPipeline } from '../../../chains/devnet/deploy/common.js'
import { lzReceiveOptions, addressToBytes32 } from '../../../chains/bridges/layerzero/index.js'
import { devnetOperatorKeys } from '../../../chains/devnet/operators.js'
import { relayerChainsOf, startRelayer } from '../../../chains/devnet/relayer.js'
import type { Devnet, DevnetChain } from '../../../chains/devnet/types.js'
import type { SettlementPlan } from '../../../protocol/settlement/plan.js'
import { liqnetDomain } from '../../../protocol/signing/eip712.js'
import { privateKeyToAccount } from 'viem/accounts'
import {
  decodeReason,
  deliver,
  expectRevert,
  hubOf,
  packetsTo,
  sealPlan,
  settlementEvents,
  simulateSubmit,
  sortKeys,
  spokeEvents,
  spokeOf,
  submitPlan,
  morphoWethLeg,
  aaveWethLeg,
} from './helpers.js'

const SCENARIO = 'scenarios/devnet/settlement.yaml'
const LegStatus = { None: 0, Dispatched: 1, Executed: 2, Failed: 3 } as const
const WETH = (x: string) => parseEther(x)
const USDC = (x: string) => parseUnits(x, 6)

describe('settlement contracts (3 anvil chains, LayerZero V2)', function () {
  this.timeout(90_000)
  let devnet: Devnet
  let hub: DevnetChain, alpha: DevnetChain, beta: DevnetChain
  const keys = devnetOperatorKeys(4).map((k) => k.privateKey)
  let submitter: Address
  let deadline: bigint
  const stateDir = mkdtempSync(join(tmpdir(), 'liqnet-settlement-'))

  const tokens = (c: DevnetChain) => ({ weth: c.deployment.tokens.WETH.address, usdc: c.deployment.tokens.USDC.address })
  const pair = (c: DevnetChain) => c.deployment.uniswapV2!.pairs['WETH/USDC'].address
  const morphoLeg = (c: DevnetChain, seq: number, borrower: string, seized: bigint, o: { minOutBps?: bigint; deadline?: bigint } = {}) =>
    morphoWethLeg(c, seq, borrower, seized, { deadline: o.deadline ?? deadline, minOutBps: o.minOutBps })
  const aaveLeg = (c: DevnetChain, seq: number, borrower: string, debtToCover: bigint, sell: bigint, o: { minOutBps?: bigint } = {}) =>
    aaveWethLeg(c, seq, borrower, debtToCover, sell, { deadline, minOutBps: o.minOutBps })
  /** D's devnet relayer over the three chains, scanning from the current heads. */
  const relay = async () => {
    const heads = await Promise.all(devnet.chains.map((c) => devnetClient(c).getBlockNumber()))
    return startRelayer({
      chains: relayerChainsOf(devnet).map((c, i) => ({ ...c, startBlock: heads[i] + 1n })),
      stateFile: join(stateDir, `relayer-${Date.now()}.json`),
      pollMs: 50,
    })
  }
  const balanceOf = (c: DevnetChain, token: Address, who: Address) =>
    devnetClient(c).readContract({ address: token, abi: devnetERC20Abi, functionName: 'balanceOf', args: [who] })

  before(async function () {
    this.timeout(120_000)
    devnet = await startDevnet({ scenario: SCENARIO })
    ;[hub, alpha, beta] = devnet.chains
    submitter = hub.accounts.liquidator.address
    await applyPriceSteps(devnet, devnet.scenario.pricePath)
    const block = await devnetClient(hub).getBlock()
    deadline = block.timestamp + 3600n
  })
  after(async () => {
    await devnet?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  describe('deployment', () => {
    it('is deployed and wired as the scenario says', async () => {
      const client = devnetClient(hub)
      const [ops, quorum, epoch] = await Promise.all([
        client.readContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'operators' }),
        client.readContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'quorum' }),
        client.readContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'epoch' }),
      ])
      assert.deepEqual(ops, devnetOperatorKeys(4).map((k) => k.address))
      assert.equal(quorum, 3)
      assert.equal(epoch, 0n)
      const peer = await devnetClient(alpha).readContract({ address: spokeOf(alpha), abi: liquidationSpokeAbi, functionName: 'peers', args: [hub.eid] })
      assert.equal(peer, addressToBytes32(hubOf(hub)))
    })
  })

  describe('settlement', () => {
    it('executes a certified plan with legs on three chains; both spokes’ receipts reach the hub (devnet relayer)', async () => {
      const reserve = hub.deployment.settlement.reserve
      const plan: SettlementPlan = {
        height: 1n,
        legs: [
          await aaveLeg(hub, 0, 'aave-below', USDC('1000'), WETH('0.43')),
          await morphoLeg(alpha, 1, 'morpho-below', WETH('0.5')),
          await aaveLeg(beta, 2, 'aave-below', USDC('1000'), WETH('0.43')),
        ],
      }
      const before = await Promise.all([hub, alpha, beta].map((c) => balanceOf(c, tokens(c).usdc, reserve)))
      // Working capital the contracts hold (network.floatUsd): this plan's legs pay for themselves and leave it as it was.
      const held = async () =>
        Promise.all([hub, alpha, beta].map(async (c) => { const at = c.deployment.settlement.hub ?? spokeOf(c); return [await balanceOf(c, tokens(c).usdc, at), await balanceOf(c, tokens(c).weth, at)] }))
      const heldBefore = await held()
      const relayer = await relay()
      let submitted: TransactionReceipt
      try {
        submitted = await submitPlan(hub, plan, sealPlan(plan, hub, keys.slice(0, 3)), submitter)
        await relayer.settled(AbortSignal.timeout(30_000)) // legs, hub → spokes
        await relayer.settled(AbortSignal.timeout(30_000)) // receipts, spokes → hub
      } finally {
        await relayer.stop()
      }
      assert.equal(relayer.stats.delivered, 4)

      const ev = settlementEvents(submitted)
      assert.ok(ev.some((e) => e.eventName === 'PlanSubmitted'))
      const local = ev.find((e) => e.eventName === 'LegExecuted')
      assert.ok(local && local.eventName === 'LegExecuted')
      assert.equal(local.args.result.status, LegStatus.Executed, `local leg failed: ${local.args.result.reason}`)
      assert.equal(local.args.result.repaidAssets, USDC('1000'))
      assert.ok(local.args.result.proceeds > 0n && local.args.result.collateralLeft > 0n)
      const dispatched = ev.filter((e) => e.eventName === 'LegDispatched')
      assert.deepEqual(dispatched.map((e) => e.eventName === 'LegDispatched' && e.args.eid), [alpha.eid, beta.eid])

      // Each spoke executed its leg.
      for (const c of [alpha, beta]) {
        const runs = await devnetClient(c).getContractEvents({ address: spokeOf(c), abi: liquidationSpokeAbi, eventName: 'LegExecuted', args: { height: 1n }, fromBlock: 0n })
        assert.equal(runs.length, 1)
        assert.equal(runs[0].args.result!.status, LegStatus.Executed, `${c.name}: ${runs[0].args.result!.reason}`)
      }
      // Both receipts reached the hub; the plan settled.
      const client = devnetClient(hub)
      const receipts = await client.getContractEvents({ address: hubOf(hub), abi: liquidationHubAbi, eventName: 'ReceiptReceived', args: { height: 1n }, fromBlock: submitted.blockNumber })
      assert.deepEqual(
        receipts.map((e) => [e.args.seq, e.args.eid, e.args.result!.status]).sort(),
        [
          [1, alpha.eid, LegStatus.Executed],
          [2, beta.eid, LegStatus.Executed],
        ],
      )
      const [settled] = await client.getContractEvents({ address: hubOf(hub), abi: liquidationHubAbi, eventName: 'PlanSettled', args: { height: 1n }, fromBlock: submitted.blockNumber })
      assert.deepEqual([settled.args.executed, settled.args.failed], [3, 0])
      for (const seq of [0, 1, 2]) {
        const [status] = await client.readContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'legStatus', args: [1n, seq] })
        assert.equal(status, LegStatus.Executed)
      }
      const after = await Promise.all([hub, alpha, beta].map((c) => balanceOf(c, tokens(c).usdc, reserve)))
      after.forEach((a, i) => assert.ok(a > before[i], `reserve got proceeds on chain ${i}`))
      // Nothing of the legs stays on the settlement contracts: their working capital is what it was.
      assert.deepEqual(await held(), heldBefore)
      assert.ok(heldBefore.every(([usdc, weth]) => usdc > 0n && weth > 0n), 'the devnet funds working capital')
      // A replayed delivery does nothing: the packet is no longer verifiable.
      await expectRevert(() => deliver(submitted, alpha), 'LZ_PathNotVerifiable')
    })
  })

  describe('replay', () => {
    it('refuses a replayed height', async () => {
      const plan: SettlementPlan = { height: 1n, legs: [await morphoLeg(alpha, 0, 'morpho-below-2', WETH('0.1'))] }
      await expectRevert(() => simulateSubmit(hub, plan, sealPlan(plan, hub, keys.slice(0, 3)), submitter, parseEther('1')), 'HeightAlreadySubmitted')
    })
  })

  describe('seal checks', () => {
    let plan: SettlementPlan
    before(async () => {
      plan = { height: 100n, legs: [await morphoLeg(alpha, 0, 'morpho-below-2', WETH('0.1'))] }
    })

    it('accepts a quorum of valid seals (simulated)', async () => {
      await simulateSubmit(hub, plan, sealPlan(plan, hub, keys.slice(1, 4)), submitter, parseEther('1'))
    })

    it('reverts with InsufficientLegGas rather than failing a hub-local leg when sent with too little gas', async () => {
      const local: SettlementPlan = { height: 101n, legs: [await aaveLeg(hub, 0, 'aave-below-2', USDC('1000'), WETH('0.43'))] }
      const seals = sealPlan(local, hub, keys.slice(1, 4))
      await simulateSubmit(hub, local, seals, submitter, parseEther('1'))
      await expectRevert(
        () => devnetClient(hub).simulateContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'submitPlan', args: [local, seals], account: submitter, value: parseEther('1'), gas: 700_000n }),
        'InsufficientLegGas',
      )
    })

    it('refuses too few seals', async () => {
      await expectRevert(() => simulateSubmit(hub, plan, sealPlan(plan, hub, keys.slice(0, 2)), submitter, parseEther('1')), 'TooFewSeals')
    })

    it('refuses a forged seal (a key outside the set, a seal over another plan, a malformed seal)', async () => {
      const outsider = keccak256(stringToBytes('liqnet-test/outsider')) as Hex
      await expectRevert(() => simulateSubmit(hub, plan, sealPlan(plan, hub, [keys[0], keys[1], outsider]), submitter, parseEther('1')), 'UnknownSigner')
      const other = { ...plan, legs: [{ ...plan.legs[0], seizedAssets: WETH('0.2') }] }
      await expectRevert(() => simulateSubmit(hub, plan, sealPlan(other, hub, keys.slice(0, 3)), submitter, parseEther('1')), 'UnknownSigner')
      const seals = sealPlan(plan, hub, keys.slice(0, 3))
      seals[1] = seals[1].slice(0, -2) as Hex // 64 bytes
      await expectRevert(() => simulateSubmit(hub, plan, seals, submitter, parseEther('1')), 'InvalidSeal')
      // The same signature with high s (n - s, v flipped): ECDSA malleability is refused.
      const highS = sealPlan(plan, hub, keys.slice(0, 3))
      const bytes = hexToBytes(highS[0])
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
      const sHigh = n - BigInt(toHex(bytes.slice(32, 64)))
      highS[0] = concatHex([toHex(bytes.slice(0, 32)), toHex(sHigh, { size: 32 }), toHex(bytes[64] === 27 ? 28 : 27, { size: 1 })])
      await expectRevert(() => simulateSubmit(hub, plan, highS, submitter, parseEther('1')), 'InvalidSeal')
    })

    it('refuses a duplicate signer and unordered signers', async () => {
      const [a, b] = sortKeys(keys.slice(0, 2))
      await expectRevert(() => simulateSubmit(hub, plan, sealPlan(plan, hub, [a, a, b], { sort: false }), submitter, parseEther('1')), 'DuplicateSigner')
      await expectRevert(() => simulateSubmit(hub, plan, sealPlan(plan, hub, [...sortKeys(keys.slice(0, 3))].reverse(), { sort: false }), submitter, parseEther('1')), 'SignersNotAscending')
    })

    it('refuses bad plans: no legs, legs out of order, an EID without a spoke, a fee short of the quote', async () => {
      const empty = { height: 101n, legs: [] }
      await expectRevert(() => simulateSubmit(hub, empty, sealPlan(empty, hub, keys.slice(0, 3)), submitter), 'EmptyPlan')
      const unordered = { height: 102n, legs: [{ ...plan.legs[0], seq: 1 }, { ...plan.legs[0], seq: 1 }] }
      await expectRevert(() => simulateSubmit(hub, unordered, sealPlan(unordered, hub, keys.slice(0, 3)), submitter, parseEther('1')), 'LegsNotAscending')
      const nowhere = { height: 103n, legs: [{ ...plan.legs[0], eid: 49_999 }] }
      await expectRevert(() => simulateSubmit(hub, nowhere, sealPlan(nowhere, hub, keys.slice(0, 3)), submitter, parseEther('1')), 'NoPeer')
      await expectRevert(() => simulateSubmit(hub, plan, sealPlan(plan, hub, keys.slice(0, 3)), submitter, 0n), 'InsufficientFee')
    })
  })

  describe('failing legs', () => {
    it('reports failing legs with failure receipts: healthy again, slippage bound, deadline passed', async () => {
      const past = (await devnetClient(alpha).getBlock()).timestamp - 1n
      const plan: SettlementPlan = {
        height: 2n,
        legs: [
          await morphoLeg(alpha, 0, 'morpho-above', WETH('0.1')), // healthy after the shock
          await morphoLeg(alpha, 1, 'morpho-below-2', WETH('0.1'), { deadline: past }),
          await aaveLeg(beta, 2, 'aave-below-2', USDC('1000'), WETH('0.43'), { minOutBps: 10_100n }), // above the pool's output
        ],
      }
      const submitted = await submitPlan(hub, plan, sealPlan(plan, hub, keys.slice(1, 4)), submitter)
      const [alphaRuns, betaRuns] = await Promise.all([deliver(submitted, alpha), deliver(submitted, beta)])
      const results = [...alphaRuns, ...betaRuns].flatMap((r) => spokeEvents(r)).filter((e) => e.eventName === 'LegExecuted')
      const reasons = results.map((e) => (e.eventName === 'LegExecuted' ? [e.args.seq, e.args.result.status, decodeReason(e.args.result.reason)] : []))
      assert.equal(reasons.length, 3)
      assert.deepEqual(reasons[0]!.slice(0, 2), [0, LegStatus.Failed])
      assert.deepEqual(reasons[0]![2], { errorName: 'Error', args: ['position is healthy'] })
      assert.deepEqual(reasons[1]!.slice(0, 2), [1, LegStatus.Failed])
      assert.equal((reasons[1]![2] as { errorName: string }).errorName, 'DeadlinePassed')
      assert.deepEqual(reasons[2]!.slice(0, 2), [2, LegStatus.Failed])
      assert.equal((reasons[2]![2] as { errorName: string }).errorName, 'SlippageBoundHit')
      // The failed legs moved nothing: the borrower's debt is intact.
      const status = await devnetClient(alpha).readContract({ address: spokeOf(alpha), abi: liquidationSpokeAbi, functionName: 'legStatus', args: [2n, 0] })
      assert.equal(status, LegStatus.Failed)

      // The receipts reach the hub; the plan settles with three failures.
      const back = [...(await deliver(alphaRuns[0], hub)), ...(await deliver(alphaRuns[1], hub)), ...(await deliver(betaRuns[0], hub))]
      const settled = back.flatMap((r) => settlementEvents(r)).find((e) => e.eventName === 'PlanSettled')
      assert.ok(settled && settled.eventName === 'PlanSettled')
      assert.deepEqual([settled.args.executed, settled.args.failed], [0, 3])
    })
  })

  describe('outsiders', () => {
    it('refuses messages that do not come from the hub, and calls from outsiders', async () => {
      // An outsider deploys its own hub on the hub chain (its own operators), points it at alpha's spoke, submits a plan.
      const outsiderKey = keccak256(stringToBytes('liqnet-test/outsider-owner')) as Hex
      const outsider = privateKeyToAccount(outsiderKey)
      const hubClient = devnetClient(hub)
      await hubClient.request({ method: 'anvil_setBalance' as never, params: [outsider.address, `0x${parseEther('10').toString(16)}`] as never })
      const tx = await new TxPipeline({ client: hubClient, account: outsider }).init()
      const fake = tx.deploy('LiquidationHub', [hub.deployment.layerzero.endpoint, outsider.address, [outsider.address], 1, outsider.address], { gas: 8_000_000n })
      tx.call({ address: fake, abi: liquidationHubAbi, functionName: 'setPeer', args: [alpha.eid, addressToBytes32(spokeOf(alpha))], gas: 200_000n })
      tx.call({ address: fake, abi: liquidationHubAbi, functionName: 'setEnforcedOptions', args: [[{ eid: alpha.eid, msgType: 1, options: lzReceiveOptions(2_000_000n) }]], gas: 200_000n })
      const plan: SettlementPlan = { height: 7n, legs: [await morphoLeg(alpha, 0, 'morpho-below-2', WETH('0.5'))] }
      const digest = await hubClient.readContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'commitSealDigest', args: [0n, `0x${'00'.repeat(32)}`] })
      assert.equal(digest, hashTypedData({ domain: liqnetDomain({ chainId: hub.chainId, verifyingContract: hubOf(hub) }), types: { CommitSeal: [{ name: 'height', type: 'uint64' }, { name: 'planDigest', type: 'bytes32' }] }, primaryType: 'CommitSeal', message: { height: 0n, planDigest: `0x${'00'.repeat(32)}` } }))
      await tx.flush()
      const fakeHub = { ...hub, deployment: { ...hub.deployment, settlement: { ...hub.deployment.settlement, hub: fake } } }
      const seal = sealPlan(plan, fakeHub, [outsiderKey])
      const tx2 = await new TxPipeline({ client: hubClient, account: outsider }).init()
      tx2.call({ address: fake, abi: liquidationHubAbi, functionName: 'submitPlan', args: [plan, seal], value: parseEther('0.01'), gas: 3_000_000n })
      const [sent] = await tx2.flush()
      assert.equal(packetsTo(sent, alpha.eid).length, 1)
      // The endpoint asks the spoke (allowInitializePath: only its peer, the hub) and refuses to verify the packet.
      await expectRevert(() => deliver(sent, alpha), 'LZ_PathNotInitializable')
      const status = await devnetClient(alpha).readContract({ address: spokeOf(alpha), abi: liquidationSpokeAbi, functionName: 'legStatus', args: [7n, 0] })
      assert.equal(status, LegStatus.None)

      // Direct calls: lzReceive not from the endpoint, runLeg not from itself, callbacks outside a running leg.
      const alphaClient = devnetClient(alpha)
      const from = alpha.accounts.liquidator.address
      const spoke = spokeOf(alpha)
      await expectRevert(
        () => alphaClient.simulateContract({ address: spoke, abi: liquidationSpokeAbi, functionName: 'lzReceive', args: [{ srcEid: hub.eid, sender: addressToBytes32(hubOf(hub)), nonce: 1n }, `0x${'11'.repeat(32)}`, '0x', from, '0x'], account: from }),
        'OnlyEndpoint',
      )
      await expectRevert(() => alphaClient.simulateContract({ address: spoke, abi: liquidationSpokeAbi, functionName: 'runLeg', args: [plan.legs[0]], account: from }), 'OnlySelf')
      await expectRevert(() => alphaClient.simulateContract({ address: spoke, abi: liquidationSpokeAbi, functionName: 'onMorphoLiquidate', args: [1n, '0x'], account: from }), 'UnauthorizedCallback')
      await expectRevert(
        () => alphaClient.simulateContract({ address: spoke, abi: liquidationSpokeAbi, functionName: 'executeOperation', args: [tokens(alpha).usdc, 1n, 0n, spoke, '0x'], account: from }),
        'UnauthorizedCallback',
      )
      await expectRevert(() => alphaClient.simulateContract({ address: spoke, abi: liquidationSpokeAbi, functionName: 'setReserve', args: [from], account: from }), 'OwnableUnauthorizedAccount')
      await expectRevert(() => alphaClient.simulateContract({ address: spoke, abi: liquidationSpokeAbi, functionName: 'withdrawNative', args: [from, 1n], account: from }), 'OwnableUnauthorizedAccount')
    })
  })

  describe('operator set', () => {
    it('changes the operator set only with a quorum of the current set', async () => {
      const next = devnetOperatorKeys(7)
      const newOps = next.map((k) => k.address)
      const domain = liqnetDomain({ chainId: hub.chainId, verifyingContract: hubOf(hub) })
      const types = { OperatorSetUpdate: [{ name: 'epoch', type: 'uint64' }, { name: 'operators', type: 'address[]' }, { name: 'quorum', type: 'uint16' }] } as const
      const sign = (k: Hex, epoch: bigint, quorum: number) => privateKeyToAccount(k).signTypedData({ domain, types, primaryType: 'OperatorSetUpdate', message: { epoch, operators: newOps, quorum } })
      const client = devnetClient(hub)
      const call = (seals: Hex[], quorum: number) =>
        client.simulateContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'updateOperators', args: [newOps, quorum, seals], account: submitter })
      const signers = sortKeys(keys.slice(0, 3))
      await expectRevert(async () => call(await Promise.all(signers.slice(0, 2).map((k) => sign(k, 1n, 5))), 5), 'TooFewSeals')
      await expectRevert(async () => call(await Promise.all(signers.map((k) => sign(k, 2n, 5))), 5), 'UnknownSigner') // wrong epoch
      await expectRevert(async () => call(await Promise.all(signers.map((k) => sign(k, 1n, 3))), 3), 'InvalidQuorum') // 3 < 2f+1 = 5
      const seals = await Promise.all(signers.map((k) => sign(k, 1n, 5)))
      const tx = await new TxPipeline({ client, account: { address: submitter, type: 'json-rpc' } }).init()
      tx.call({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'updateOperators', args: [newOps, 5, seals], gas: 2_000_000n })
      await tx.flush()
      assert.equal(await client.readContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'quorum' }), 5)
      assert.equal(await client.readContract({ address: hubOf(hub), abi: liquidationHubAbi, functionName: 'epoch' }), 1n)
      // Plans now need 5 seals of the new set.
      const plan: SettlementPlan = { height: 200n, legs: [await morphoLeg(alpha, 0, 'morpho-below-2', WETH('0.1'))] }
      const newKeys = next.map((k) => k.privateKey)
      await expectRevert(() => simulateSubmit(hub, plan, sealPlan(plan, hub, newKeys.slice(0, 4)), submitter, parseEther('1')), 'TooFewSeals')
      await simulateSubmit(hub, plan, sealPlan(plan, hub, newKeys.slice(2, 7)), submitter, parseEther('1'))
    })
  })
})
