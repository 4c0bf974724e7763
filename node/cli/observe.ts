import { Command, Option } from 'commander'
import { isAddress, isHex, type Address, type Hex } from 'viem'
import { readDeploymentFile } from '../../chains/devnet/devnet.js'
import { createChainClient, readBlockRef, assertChainId } from '../../chains/evm/client.js'
import { discoverAaveUsers, readAaveAccounts } from '../../chains/aave/reader.js'
import { discoverMorphoBorrowers, scanMorpho } from '../../chains/morpho/reader.js'
import { readUniswapV2Pools, poolDepth } from '../../chains/uniswap-v2/reader.js'
import { BaseError } from '../../protocol/errors.js'

/** A bad `liqnet observe` option: names the option and the rule. */
export class ObserveOptionError extends BaseError {
  override name = 'ObserveOptionError'
  constructor(option: string, rule: string) {
    super(`--${option}: ${rule}`, { metaMessages: ['Run `liqnet observe --help` for the options.'] })
  }
}

/** Everything `observe` reads on one chain. */
export type ObserveTarget = {
  chainId: number
  rpcUrls: string[]
  morpho?: { address: Address; markets: Hex[]; fromBlock: bigint }
  aave?: { pool: Address; dataProvider: Address; oracle: Address; fromBlock: bigint }
  pairs: Address[]
}

type ObserveFlags = {
  deployment?: string
  chain?: string
  rpc: string[]
  chainId?: string
  morpho?: string
  market: string[]
  morphoFromBlock: string
  aavePool?: string
  aaveDataProvider?: string
  aaveOracle?: string
  aaveFromBlock: string
  pair: string[]
  block?: string
  liquidatableOnly: boolean
}

const collect = (v: string, prev: string[]) => [...prev, v]

function address(option: string, v: string | undefined): Address {
  if (!v || !isAddress(v, { strict: false })) throw new ObserveOptionError(option, `must be a 20-byte hex address, got ${JSON.stringify(v)}`)
  return v
}

function blockNumber(option: string, v: string): bigint {
  if (!/^\d+$/.test(v)) throw new ObserveOptionError(option, `must be a block number, got ${JSON.stringify(v)}`)
  return BigInt(v)
}

/** Resolves the flags into one chain's read targets, from a devnet deployment file or explicit addresses. */
export function resolveObserveTarget(flags: ObserveFlags): ObserveTarget {
  if (flags.deployment) {
    const file = readDeploymentFile(flags.deployment)
    const names = Object.keys(file.chains)
    const name = flags.chain ?? names[0]
    const c = file.chains[name]
    if (!c) throw new ObserveOptionError('chain', `must be one of ${names.join(', ')}`)
    const d = c.deployment
    const markets = d.morpho ? Object.values(d.morpho.markets) : []
    return {
      chainId: c.chainId,
      rpcUrls: flags.rpc.length ? flags.rpc : [c.rpcUrl],
      morpho: d.morpho
        ? { address: d.morpho.address, markets: markets.map((m) => m.id), fromBlock: markets.reduce((a, m) => (m.startBlock < a ? m.startBlock : a), markets[0]?.startBlock ?? 0n) }
        : undefined,
      aave: d.aave ? { pool: d.aave.pool, dataProvider: d.aave.dataProvider, oracle: d.aave.oracle, fromBlock: d.aave.startBlock } : undefined,
      pairs: d.uniswapV2 ? Object.values(d.uniswapV2.pairs).map((p) => p.address) : [],
    }
  }
  if (flags.rpc.length === 0) throw new ObserveOptionError('rpc', 'give at least one JSON-RPC URL (or --deployment)')
  for (const u of flags.rpc) if (!/^https?:\/\//.test(u)) throw new ObserveOptionError('rpc', `must be an http(s) URL, got ${JSON.stringify(u)}`)
  if (!flags.chainId || !/^\d+$/.test(flags.chainId)) throw new ObserveOptionError('chain-id', 'must be the chain id the RPC serves')
  const target: ObserveTarget = { chainId: Number(flags.chainId), rpcUrls: flags.rpc, pairs: flags.pair.map((p) => address('pair', p)) }
  if (flags.morpho !== undefined || flags.market.length) {
    for (const m of flags.market) if (!isHex(m) || m.length !== 66) throw new ObserveOptionError('market', `must be a bytes32 market id, got ${JSON.stringify(m)}`)
    if (flags.market.length === 0) throw new ObserveOptionError('market', 'give at least one market id with --morpho')
    target.morpho = { address: address('morpho', flags.morpho), markets: flags.market as Hex[], fromBlock: blockNumber('morpho-from-block', flags.morphoFromBlock) }
  }
  if (flags.aavePool !== undefined) {
    target.aave = {
      pool: address('aave-pool', flags.aavePool),
      dataProvider: address('aave-data-provider', flags.aaveDataProvider),
      oracle: address('aave-oracle', flags.aaveOracle),
      fromBlock: blockNumber('aave-from-block', flags.aaveFromBlock),
    }
  }
  if (!target.morpho && !target.aave && target.pairs.length === 0) throw new ObserveOptionError('morpho', 'nothing to read: give --morpho/--market, --aave-pool or --pair')
  return target
}

const json = (o: unknown) => JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))

/**
 * Reads every borrower's health and every pool's depth on one chain at one block and writes
 * one JSON object per account or pool to `out` (amounts as decimal strings: base units, WAD,
 * or 1e36-scaled prices as each field's docs in chains/types.ts say). Returns the counts.
 *
 * @throws ObserveOptionError, and the readers' RpcUnavailableError / ChainReadError / ContractRevertError.
 */
export async function observe(target: ObserveTarget, opts: { block?: bigint; liquidatableOnly?: boolean; out?: (line: string) => void } = {}) {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'))
  const client = createChainClient({ chainId: target.chainId, rpcUrls: target.rpcUrls })
  await assertChainId(client)
  const block = await readBlockRef(client, opts.block)
  const counts = { chainId: target.chainId, blockNumber: block.blockNumber, morphoAccounts: 0, aaveAccounts: 0, liquidatable: 0, pools: 0 }
  if (target.morpho) {
    const borrowers = new Map<Hex, Address[]>()
    for (const market of target.morpho.markets) {
      borrowers.set(market, await discoverMorphoBorrowers(client, { morpho: target.morpho.address, market, fromBlock: target.morpho.fromBlock, toBlock: block.blockNumber }))
    }
    const scan = await scanMorpho(client, { morpho: target.morpho.address, borrowers, block })
    for (const a of scan.accounts) {
      counts.morphoAccounts++
      if (a.liquidatable) counts.liquidatable++
      if (!opts.liquidatableOnly || a.liquidatable) out(json(a))
    }
  }
  if (target.aave) {
    const users = await discoverAaveUsers(client, { pool: target.aave.pool, fromBlock: target.aave.fromBlock, toBlock: block.blockNumber })
    const scan = await readAaveAccounts(client, { deployment: target.aave, users, block })
    for (const a of scan.accounts) {
      counts.aaveAccounts++
      if (a.liquidatable) counts.liquidatable++
      if (!opts.liquidatableOnly || a.liquidatable) out(json(a))
    }
  }
  if (target.pairs.length) {
    for (const pool of await readUniswapV2Pools(client, target.pairs.map((address) => ({ address })), { block })) {
      counts.pools++
      out(json({ ...pool, depth: [poolDepth(pool, pool.token0), poolDepth(pool, pool.token1)] }))
    }
  }
  return counts
}

/** Adds `liqnet observe`: one read of every position and pool on one chain, devnet or real. */
export function registerObserve(program: Command): void {
  program
    .command('observe')
    .description(
      'Read every borrower\'s health (Morpho Blue, Aave V3) and every Uniswap V2 pool\'s reserves and depth on one chain ' +
        'at one block, and print one JSON object per account or pool. Works on a devnet (--deployment) or any chain given by RPC URL.',
    )
    .option('--deployment <file>', 'a devnet deployments.json to take the RPC URL and addresses from')
    .option('--chain <name>', 'chain of the deployment file (default: its first)')
    .option('--rpc <url>', 'JSON-RPC URL; repeat for a fallback list, tried in order', collect, [] as string[])
    .option('--chain-id <n>', 'chain id the RPC must serve (checked)')
    .option('--morpho <address>', 'Morpho Blue contract')
    .option('--market <id>', 'Morpho Blue market id (bytes32); repeat for several', collect, [] as string[])
    .option('--morpho-from-block <n>', 'first block of borrower discovery (the markets\' creation)', '0')
    .option('--aave-pool <address>', 'Aave V3 Pool')
    .option('--aave-data-provider <address>', 'Aave V3 AaveProtocolDataProvider')
    .option('--aave-oracle <address>', 'Aave V3 AaveOracle')
    .option('--aave-from-block <n>', 'first block of user discovery (the Pool\'s deployment)', '0')
    .option('--pair <address>', 'Uniswap V2 pair; repeat for several', collect, [] as string[])
    .addOption(new Option('--block <n>', 'block to read at (default: latest)'))
    .option('--liquidatable-only', 'print only liquidatable accounts', false)
    .action(async (flags: ObserveFlags) => {
      const target = resolveObserveTarget(flags)
      const counts = await observe(target, { block: flags.block === undefined ? undefined : blockNumber('block', flags.block), liquidatableOnly: flags.liquidatableOnly })
      process.stderr.write(json({ observed: counts }) + '\n')
    })
}
