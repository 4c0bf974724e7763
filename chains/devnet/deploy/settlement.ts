/**
 * Deploys liqnet's settlement contracts on a devnet (docs/settlement.md): a LiquidationHub on the hub chain and a
 * LiquidationSpoke on every other chain, wired over the chains' LayerZero EndpointV2 + SimpleMessageLib:
 * - the hub gets the operator set and quorum 2f+1, a peer per spoke and enforced options for legs (lzReceive gas);
 * - each spoke gets the hub as its only peer, enforced options for receipts, and ETH to pay receipt fees;
 * - Aave V3 reserves get flash loans enabled (legs fund `liquidationCall` with `flashLoanSimple`);
 * - every contract sends proceeds and leftover collateral to the devnet reserve (anvil account 3).
 * All set-up transactions of one chain go out as one pipeline from the deployer (addresses predicted from nonces).
 */
import { padHex, parseEther, type Address, type Hex, type PublicClient } from 'viem'
import { aavePoolAddressesProviderAbi, aavePoolConfiguratorAbi, liquidationHubAbi, liquidationSpokeAbi } from '../../../contracts/out/abis.js'
import { lzReceiveOptions } from '../../bridges/layerzero/options.js'
import { BaseError } from '../../../protocol/errors.js'
import { TxPipeline } from './common.js'

/** anvil dev account 3: the devnet reserve (insurance fund) that receives settlement proceeds. Public key, devnet only. */
export const DEVNET_RESERVE: Address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
/** OAppOptionsType3 message types of the settlement messages (SettlementMessages.sol). */
export const SETTLEMENT_MSG_LEG = 1
export const SETTLEMENT_MSG_RECEIPT = 2

/** What the settlement deployment records per chain (ChainDeployment.settlement). */
export type SettlementDeployment = {
  /** The LiquidationHub, on the hub chain only. */
  hub?: Address
  /** The LiquidationSpoke, on every other chain. */
  spoke?: Address
  /** The hub chain's EID. */
  hubEid: number
  /** Receives proceeds and leftover collateral on this chain. */
  reserve: Address
  /** The hub's operator set, in registration order. */
  operators: Address[]
  /** Seals needed to certify a plan (2f+1). */
  quorum: number
  /** Enforced lzReceive gas: of legs on the spokes, of receipts on the hub. */
  legGas: number
  receiptGas: number
}

/** One chain to wire. */
export type SettlementChainInput = {
  name: string
  eid: number
  client: PublicClient
  endpoint: Address
  /** Aave V3 on the chain: flash loans are enabled on these reserves (legs borrow the debt token with flashLoanSimple). */
  aave?: { addressesProvider: Address; assets: Address[] }
  /** Sets a balance (anvil_setBalance), to fund spokes. */
  setBalance: (address: Address, wei: bigint) => Promise<void>
}

/** Parameters of {@link deploySettlement}. */
export type DeploySettlementParameters = {
  chains: readonly SettlementChainInput[]
  /** Name of the hub chain. */
  hub: string
  /** Deploys and owns the contracts (an account the nodes hold: dev or impersonated). */
  owner: Address
  operators: readonly Address[]
  quorum: number
  /** @default DEVNET_RESERVE */
  reserve?: Address
  /** lzReceive gas enforced for legs (hub → spoke). @default 2_000_000 */
  legGas?: number
  /** lzReceive gas enforced for receipts (spoke → hub). @default 300_000 */
  receiptGas?: number
  /** wei given to each spoke for receipt fees. @default 10 ETH */
  spokeWei?: bigint
}

/** The settlement deployment was asked for something impossible (unknown hub chain, bad quorum). */
export class SettlementDeployError extends BaseError {
  override name = 'SettlementDeployError'
  constructor(shortMessage: string, metaMessages: string[] = []) {
    super(shortMessage, { metaMessages })
  }
}

const toBytes32 = (a: Address): Hex => padHex(a, { size: 32 })

/**
 * Deploys and wires the hub and the spokes (see the module docs). Resolves with each chain's record, by chain name.
 * @throws SettlementDeployError for an unknown hub chain or a quorum outside 2f+1..n; ContractRevertError /
 *         TransactionFailedError from the set-up transactions.
 */
export async function deploySettlement(p: DeploySettlementParameters): Promise<Record<string, SettlementDeployment>> {
  const hubChain = p.chains.find((c) => c.name === p.hub)
  if (!hubChain) throw new SettlementDeployError(`Unknown hub chain "${p.hub}".`, [`Chains: ${p.chains.map((c) => c.name).join(', ')}.`])
  const n = p.operators.length
  const minQuorum = 2 * Math.floor((n - 1) / 3) + 1
  if (n === 0 || p.quorum < minQuorum || p.quorum > n) {
    throw new SettlementDeployError(`Invalid quorum ${p.quorum} for ${n} operators.`, [`The quorum must be 2f+1 = ${minQuorum} to ${n}.`])
  }
  const reserve = p.reserve ?? DEVNET_RESERVE
  const legGas = p.legGas ?? 2_000_000
  const receiptGas = p.receiptGas ?? 300_000
  const spokeWei = p.spokeWei ?? parseEther('10')
  const account = { address: p.owner, type: 'json-rpc' as const }
  const pipes = await Promise.all(p.chains.map((c) => new TxPipeline({ client: c.client, account }).init()))
  const configurators = await Promise.all(
    p.chains.map((c) =>
      c.aave ? c.client.readContract({ address: c.aave.addressesProvider, abi: aavePoolAddressesProviderAbi, functionName: 'getPoolConfigurator' }) : undefined,
    ),
  )

  // Deployments first (addresses known at once), then the wiring, in one pipeline per chain.
  const address = new Map<string, Address>()
  p.chains.forEach((c, i) => {
    address.set(
      c.name,
      c === hubChain
        ? pipes[i].deploy('LiquidationHub', [c.endpoint, p.owner, p.operators, p.quorum, reserve], { gas: 8_000_000n, label: 'deploy LiquidationHub' })
        : pipes[i].deploy('LiquidationSpoke', [c.endpoint, p.owner, hubChain.eid, reserve], { gas: 6_000_000n, label: `deploy LiquidationSpoke on ${c.name}` }),
    )
  })
  p.chains.forEach((c, i) => {
    const configurator = configurators[i]
    for (const asset of c.aave?.assets ?? []) {
      pipes[i].call({ address: configurator!, abi: aavePoolConfiguratorAbi, functionName: 'setReserveFlashLoaning', args: [asset, true], gas: 200_000n, label: `setReserveFlashLoaning(${asset}) on ${c.name}` })
    }
  })
  const hub = address.get(hubChain.name)!
  const spokes = p.chains.filter((c) => c !== hubChain)
  const hubPipe = pipes[p.chains.indexOf(hubChain)]
  for (const s of spokes) {
    hubPipe.call({ address: hub, abi: liquidationHubAbi, functionName: 'setPeer', args: [s.eid, toBytes32(address.get(s.name)!)], gas: 200_000n, label: `hub setPeer(${s.eid})` })
  }
  if (spokes.length > 0) {
    hubPipe.call({
      address: hub,
      abi: liquidationHubAbi,
      functionName: 'setEnforcedOptions',
      args: [spokes.map((s) => ({ eid: s.eid, msgType: SETTLEMENT_MSG_LEG, options: lzReceiveOptions(BigInt(legGas)) }))],
      gas: 200_000n + 60_000n * BigInt(spokes.length),
      label: 'hub setEnforcedOptions',
    })
  }
  for (const s of spokes) {
    const pipe = pipes[p.chains.indexOf(s)]
    const spoke = address.get(s.name)!
    pipe.call({ address: spoke, abi: liquidationSpokeAbi, functionName: 'setPeer', args: [hubChain.eid, toBytes32(hub)], gas: 200_000n, label: `spoke ${s.name} setPeer(hub)` })
    pipe.call({
      address: spoke,
      abi: liquidationSpokeAbi,
      functionName: 'setEnforcedOptions',
      args: [[{ eid: hubChain.eid, msgType: SETTLEMENT_MSG_RECEIPT, options: lzReceiveOptions(BigInt(receiptGas)) }]],
      gas: 200_000n,
      label: `spoke ${s.name} setEnforcedOptions`,
    })
  }
  await Promise.all(pipes.map((pipe) => pipe.flush()))
  await Promise.all(spokes.map((s) => s.setBalance(address.get(s.name)!, spokeWei)))

  const out: Record<string, SettlementDeployment> = {}
  for (const c of p.chains) {
    out[c.name] = {
      ...(c === hubChain ? { hub } : { spoke: address.get(c.name)! }),
      hubEid: hubChain.eid,
      reserve,
      operators: [...p.operators],
      quorum: p.quorum,
      legGas,
      receiptGas,
    }
  }
  return out
}
