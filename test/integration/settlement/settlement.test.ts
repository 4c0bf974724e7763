/**
 * The node's settlement on the settlement devnet (scenarios/devnet/settlement.yaml: hub, alpha, beta; real
 * LiquidationHub / LiquidationSpoke, EndpointV2 + SimpleMessageLib, Morpho Blue, Aave V3, Uniswap V2), with the
 * devnet relayer delivering the legs and receipts: transmitters racing on the staggered schedule, the outbox across
 * a restart, fee bumps on the same nonce, and the tracker following every leg to its receipt.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBytes, parseEther, parseTransaction, parseUnits, toHex, type Address, type Hex, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { liquidationHubAbi } from '../../../contracts/out/abis.js'
import { anvilOf, applyPriceSteps, devnetClient, startDevnet } from '../../../chains/devnet/devnet.js'
import { devnetOperatorKeys } from '../../../chains/devnet/operators.js'
import { relayerChainsOf, startRelayer, type Relayer } from '../../../chains/devnet/relayer.js'
import type { Devnet, DevnetChain } from '../../../chains/devnet/types.js'
import { createChainClient } from '../../../chains/evm/client.js'
import {
  sealDomainSeparator,
  settlementPlanDigest,
  signCommitSeal,
  type SettlementPlan,
} from '../../../protocol/settlement/plan.js'
import { SettlementOutbox } from '../../../node/settlement/outbox.js'
import { SettlementTracker } from '../../../node/settlement/tracker.js'
import { designatedTransmitter, transmitRank, Transmitter, type CertifiedPlanInput, type TransmitterOptions } from '../../../node/settlement/transmitter.js'
import { toLegSettlement } from '../../../node/settlement/api.js'
import { aaveWethLeg, morphoWethLeg } from '../settlement-contracts/helpers.js'

const SCENARIO = 'scenarios/devnet/settlement.yaml'
const WETH = (x: string) => parseEther(x)
const USDC = (x: string) => parseUnits(x, 6)

describe('node settlement: transmitter, outbox, fee bumps, tracker (3 anvil chains, relayer)', function () {
  this.timeout(90_000)
  let devnet: Devnet
  let hub: DevnetChain, alpha: DevnetChain, beta: DevnetChain
  let client: PublicClient
  let relayer: Relayer
  let tracker: SettlementTracker
  let deadline: bigint
  let dir: string
  const operators = devnetOperatorKeys(4)
  const outboxes: SettlementOutbox[] = []
  const transmitters: Transmitter[] = []

  const hubAddress = () => hub.deployment.settlement.hub!
  const pair = (c: DevnetChain) => c.deployment.uniswapV2!.pairs['WETH/USDC'].address

  const morphoLeg = (c: DevnetChain, seq: number, borrower: string, seized: bigint) => morphoWethLeg(c, seq, borrower, seized, { deadline })
  const aaveLeg = (c: DevnetChain, seq: number, borrower: string, debtToCover: bigint, sell: bigint) => aaveWethLeg(c, seq, borrower, debtToCover, sell, { deadline })

  /** The plan certified by every operator's commit seal (as consensus hands it over). */
  function certify(plan: SettlementPlan): CertifiedPlanInput {
    const sep = sealDomainSeparator({ chainId: hub.chainId, verifyingContract: hubAddress() })
    const digest = settlementPlanDigest(plan)
    return {
      height: plan.height,
      settlementPlan: plan,
      seals: operators.map((k) => ({ signer: k.address, seal: toHex(signCommitSeal(sep, plan.height, digest, hexToBytes(k.privateKey))) })),
    }
  }

  async function transmitterOf(operator: number, name: string, opts: TransmitterOptions = {}): Promise<{ t: Transmitter; outbox: SettlementOutbox }> {
    const outbox = new SettlementOutbox({ path: join(dir, name) })
    await outbox.open()
    outboxes.push(outbox)
    const account = privateKeyToAccount(operators[operator]!.privateKey)
    const t = new Transmitter({
      client,
      chainId: hub.chainId,
      hub: hubAddress(),
      account,
      self: account.address,
      outbox,
      staggerMs: 500,
      ...opts,
      tx: { receiptPollMs: 25, bumpAfterMs: 60_000, ...opts.tx },
    })
    await t.start()
    transmitters.push(t)
    return { t, outbox }
  }

  const opIndex = (a: Address) => operators.findIndex((o) => o.address === a)
  const nonceOf = (a: Address) => client.getTransactionCount({ address: a, blockTag: 'latest' })
  const submissionsAt = async (height: bigint) =>
    (await client.getContractEvents({ address: hubAddress(), abi: liquidationHubAbi, eventName: 'PlanSubmitted', args: { height }, fromBlock: 0n })).length

  before(async function () {
    this.timeout(150_000)
    dir = mkdtempSync(join(tmpdir(), 'liqnet-settlement-'))
    devnet = await startDevnet({ scenario: SCENARIO })
    ;[hub, alpha, beta] = devnet.chains as [DevnetChain, DevnetChain, DevnetChain]
    client = devnetClient(hub)
    await applyPriceSteps(devnet, devnet.scenario.pricePath)
    deadline = (await client.getBlock()).timestamp + 3600n
    // The transmitters sign with the operator keys: give them gas money on the hub chain.
    await anvilOf(hub)!.batch(operators.map((o) => ({ method: 'anvil_setBalance', params: [o.address, toHex(parseEther('100'))] })))
    relayer = await startRelayer({ chains: relayerChainsOf(devnet), stateFile: join(dir, 'relayer.json'), pollMs: 50 })
    const tracked = (c: DevnetChain, address: Address) => ({
      eid: c.eid,
      address,
      endpoint: c.deployment.layerzero.endpoint,
      client: createChainClient({ chainId: c.chainId, rpcUrls: [c.rpcUrl], retryCount: 0 }),
    })
    tracker = new SettlementTracker({
      hub: tracked(hub, hubAddress()),
      spokes: [tracked(alpha, alpha.deployment.settlement.spoke!), tracked(beta, beta.deployment.settlement.spoke!)],
      pollMs: 100,
    })
    tracker.start()
  })

  after(async () => {
    for (const t of transmitters) t.stop()
    tracker?.stop()
    await relayer?.stop().catch(() => undefined)
    await Promise.all(outboxes.map((o) => o.close().catch(() => undefined)))
    await devnet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('two nodes race on the staggered schedule: exactly one submitPlan lands; the relayer and the tracker take every leg to its receipt', async () => {
    const plan: SettlementPlan = {
      height: 1n,
      legs: [
        await aaveLeg(hub, 0, 'aave-below', USDC('1000'), WETH('0.43')),
        await morphoLeg(alpha, 1, 'morpho-below', WETH('0.5')),
        await aaveLeg(beta, 2, 'aave-below', USDC('1000'), WETH('0.43')),
      ],
    }
    const ops = operators.map((o) => o.address)
    const designated = designatedTransmitter(1n, ops)
    const first = opIndex(designated)
    const second = (first + 1) % 4
    assert.equal(transmitRank(1n, ops, ops[second]!), 1)
    // A stagger well above one submission's latency on a loaded machine, so the second node finds the plan landed.
    const a = await transmitterOf(first, 'race-a', { staggerMs: 2_000 })
    const b = await transmitterOf(second, 'race-b', { staggerMs: 2_000 })
    const nonceB = await nonceOf(ops[second]!)
    const certified = certify(plan)
    tracker.expect(plan, settlementPlanDigest(plan))
    const [ra, rb] = await Promise.all([a.t.transmit(certified), b.t.transmit(certified)])

    assert.equal(ra.state, 'landed')
    assert.equal(ra.rank, 0)
    assert.equal(rb.state, 'skipped')
    assert.equal(rb.reason, 'ALREADY_LANDED')
    assert.equal(rb.landedBy, designated)
    assert.equal(rb.txHash, ra.txHash)
    assert.equal(await submissionsAt(1n), 1, 'one PlanSubmitted')
    assert.equal(await nonceOf(ops[second]!), nonceB, 'the second node sent no transaction')
    assert.equal((await a.outbox.get(1n))?.state, 'landed')
    assert.equal((await b.outbox.get(1n))?.state, 'skipped')
    // Only the quorum of seals went on chain (3 of 4).
    const sent = parseTransaction((await a.outbox.get(1n))!.attempts[0]!.raw)
    assert.ok(sent.data && sent.data.length > 10)

    const settled = await tracker.waitFor(1n, (p) => p.settled, { timeoutMs: 30_000 })
    assert.equal(settled.submitted, true)
    assert.equal(settled.submitter, designated)
    assert.deepEqual(settled.legs.map((l) => [l.seq, l.state, l.local]), [
      [0, 'executed', true],
      [1, 'executed', false],
      [2, 'executed', false],
    ])
    for (const l of settled.legs.filter((x) => !x.local)) {
      assert.ok(l.guid && l.dispatchTx && l.deliveredTx && l.receiptGuid && l.receiptTx, `leg ${l.seq} followed from dispatch to receipt`)
      assert.equal(l.spokeResult?.status, 'executed')
      assert.ok(l.outcome!.repaidAssets > 0n && l.outcome!.proceeds > 0n)
      assert.equal(toLegSettlement(l).status, 'executed')
    }
    assert.equal(settled.legs[0]!.outcome!.repaidAssets, USDC('1000'))
    assert.equal(tracker.counts().executed, 3)
  })

  it('the designated node is down: the next in rank submits after its stagger; the tracker reports a failed leg with its code', async () => {
    const ops = operators.map((o) => o.address)
    const height = 2n
    const next = (opIndex(designatedTransmitter(height, ops)) + 1) % 4
    // morpho-above is healthy: the leg fails on the spoke and its failure receipt reaches the hub.
    const plan: SettlementPlan = { height, legs: [await morphoLeg(alpha, 0, 'morpho-above', WETH('0.1'))] }
    const { t } = await transmitterOf(next, 'standby', { staggerMs: 400 })
    const t0 = Date.now()
    const r = await t.transmit(certify(plan))
    assert.equal(r.state, 'landed')
    assert.equal(r.rank, 1)
    assert.ok(Date.now() - t0 >= 400, 'waited its turn')
    const settled = await tracker.waitFor(height, (p) => p.settled, { timeoutMs: 30_000 })
    const leg = settled.legs[0]!
    assert.equal(leg.state, 'failed')
    assert.equal(leg.reasonCode, 'ACCOUNT_HEALTHY', leg.reason)
    assert.equal(toLegSettlement(leg).reason, 'ACCOUNT_HEALTHY')
  })

  describe('with automine off on the hub', () => {
    const anvil = () => anvilOf(hub)!
    beforeEach(async () => {
      await anvil().request('evm_setAutomine', [false])
    })
    afterEach(async () => {
      await anvil().request('evm_setAutomine', [true])
    })

    it('a node restarted while its submitPlan is pending resumes it from the outbox: one transaction, one landing', async () => {
      const height = 3n
      const ops = operators.map((o) => o.address)
      const who = opIndex(designatedTransmitter(height, ops))
      const plan: SettlementPlan = { height, legs: [await aaveLeg(hub, 0, 'aave-below-2', USDC('1000'), WETH('0.43'))] }
      const before = await nonceOf(ops[who]!)
      const first = await transmitterOf(who, 'restart')
      const pending = first.t.transmit(certify(plan)).catch((err: unknown) => err)
      // Wait until the signed transaction is recorded (and broadcast), then "crash".
      for (let i = 0; i < 400 && (await first.outbox.get(height))?.state !== 'sending'; i++) await new Promise((r) => setTimeout(r, 10))
      const record = await first.outbox.get(height)
      assert.equal(record?.state, 'sending')
      await new Promise((r) => setTimeout(r, 100)) // the broadcast follows the record
      first.t.stop()
      assert.ok((await pending) instanceof Error, 'the first transmitter was stopped while waiting')
      await first.outbox.close()

      const outbox = new SettlementOutbox({ path: join(dir, 'restart') })
      await outbox.open()
      outboxes.push(outbox)
      const account = privateKeyToAccount(operators[who]!.privateKey)
      const t = new Transmitter({ client, chainId: hub.chainId, hub: hubAddress(), account, self: account.address, outbox, tx: { receiptPollMs: 25, bumpAfterMs: 60_000 } })
      transmitters.push(t)
      const resumed = await t.start()
      assert.equal(resumed.length, 1)
      await anvil().request('evm_mine')
      const r = await resumed[0]!
      assert.equal(r.state, 'landed')
      assert.equal(r.txHash, record!.attempts[0]!.hash, 'the recorded transaction landed')
      // Handing the plan over again (e.g. from the decisions store at start-up) sends nothing.
      const again = await t.transmit(certify(plan))
      assert.equal(again.state, 'landed')
      assert.equal(await nonceOf(ops[who]!), before + 1, 'exactly one transaction from the node')
      assert.equal(await submissionsAt(height), 1)
    })

    it('a transaction not mined in time is replaced on the same nonce with fees raised by at least 12.5%', async () => {
      const height = 4n
      const ops = operators.map((o) => o.address)
      const who = opIndex(designatedTransmitter(height, ops))
      const plan: SettlementPlan = { height, legs: [await morphoLeg(hub, 0, 'morpho-below-2', WETH('0.5'))] }
      const { t, outbox } = await transmitterOf(who, 'bump', { tx: { bumpAfterMs: 200, maxBumps: 5 } })
      const done = t.transmit(certify(plan))
      for (let i = 0; i < 3000 && ((await outbox.get(height))?.attempts.length ?? 0) < 2; i++) await new Promise((r) => setTimeout(r, 10))
      assert.ok(((await outbox.get(height))?.attempts.length ?? 0) >= 2, 'a replacement was sent before the block was mined')
      // The outbox records an attempt before broadcasting it: wait until the replacement is in the node's pool.
      const replacement = (await outbox.get(height))!.attempts[1]!.hash as Hex
      for (let i = 0; i < 1000 && !(await client.getTransaction({ hash: replacement }).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 10))
      await anvil().request('evm_mine')
      const r = await done
      assert.equal(r.state, 'landed')
      assert.ok(r.bumps >= 1)
      const rec = (await outbox.get(height))!
      const txs = rec.attempts.map((a) => parseTransaction(a.raw))
      assert.ok(txs.every((x) => x.nonce === txs[0]!.nonce), 'every attempt on one nonce')
      for (let i = 1; i < rec.attempts.length; i++) {
        assert.ok(rec.attempts[i]!.maxFeePerGas * 10_000n >= rec.attempts[i - 1]!.maxFeePerGas * 11_250n)
        assert.ok(rec.attempts[i]!.maxPriorityFeePerGas * 10_000n >= rec.attempts[i - 1]!.maxPriorityFeePerGas * 11_250n)
      }
      const landed = rec.attempts.findIndex((a) => a.hash === r.txHash)
      assert.ok(landed >= 1, 'a replacement landed')
      const first = await client.getTransactionReceipt({ hash: rec.attempts[0]!.hash as Hex }).catch(() => undefined)
      assert.equal(first, undefined, 'the replaced attempt was never mined')
      assert.equal(await submissionsAt(height), 1)
    })
  })
})
