import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { encodeErrorResult, getAddress, type Abi, type AbiEvent, type Address } from 'viem'
import {
  ArtifactNotFoundError,
  getArtifact,
  linkBytecode,
  repoRoot,
  requiredLibraries,
  UnlinkedLibraryError,
} from '../../../contracts/artifacts.js'
import { abiExportName } from '../../../contracts/build.js'
import * as abis from '../../../contracts/out/abis.js'
import { aaveErrorName, decodeRevert, findRevertData } from '../../../chains/evm/errors.js'

const run = promisify(execFile)

describe('contracts/artifacts', function () {
  it('finds every artifact the devnet deploys, compiled or packaged, with bytecode', function () {
    const names = [
      // compiled from contracts/src
      'DevnetERC20', 'DevnetPriceFeed', 'MorphoFeedOracle', 'Aggregate3', 'MorphoBorrower', 'AaveBorrower', 'PositionSeeder',
      // compiled from @morpho-org/morpho-blue sources
      'Morpho', 'OracleMock', 'IrmMock', 'ERC20Mock',
      // packaged
      'UniswapV2Factory', 'UniswapV2Pair', 'EndpointV2', 'SimpleMessageLib',
      'Pool', 'PoolAddressesProvider', 'ACLManager', 'PoolConfigurator', 'AaveOracle', 'AaveProtocolDataProvider',
      'AToken', 'VariableDebtToken', 'StableDebtToken', 'DefaultReserveInterestRateStrategy',
      'BorrowLogic', 'SupplyLogic', 'LiquidationLogic', 'EModeLogic', 'BridgeLogic', 'PoolLogic', 'FlashLoanLogic', 'ConfiguratorLogic',
    ]
    for (const name of names) {
      const a = getArtifact(name)
      assert.equal(a.contractName, name)
      assert.match(a.bytecode, /^0x[0-9a-f]{100,}/i, `${name} bytecode`)
      assert.match(a.deployedBytecode, /^0x[0-9a-f]{100,}/i, `${name} deployedBytecode`)
      assert.ok(Array.isArray(a.abi) && a.abi.length > 0, `${name} abi`)
    }
    assert.equal(getArtifact('Pool'), getArtifact('Pool'), 'cached')
  })

  it('names `npm run build:contracts` when an artifact is missing', function () {
    assert.throws(
      () => getArtifact('NoSuchContract'),
      (e: unknown) => e instanceof ArtifactNotFoundError && e.contractName === 'NoSuchContract' && /npm run build:contracts/.test(e.message),
    )
    assert.throws(() => getArtifact('../package'), ArtifactNotFoundError)
  })

  it('links library addresses at the recorded offsets, and refuses to leave one unlinked', function () {
    const pool = getArtifact('Pool')
    assert.deepEqual(requiredLibraries(pool).sort(), [
      'BorrowLogic', 'BridgeLogic', 'EModeLogic', 'FlashLoanLogic', 'LiquidationLogic', 'PoolLogic', 'SupplyLogic',
    ])
    assert.deepEqual(requiredLibraries(getArtifact('PoolConfigurator')), ['ConfiguratorLogic'])
    assert.deepEqual(requiredLibraries(getArtifact('FlashLoanLogic')), ['BorrowLogic'])

    const libraries: Record<string, Address> = {}
    requiredLibraries(pool).forEach((name, i) => (libraries[name] = getAddress(`0x${(i + 1).toString(16).padStart(2, '0').repeat(20)}`)))
    const linked = linkBytecode(pool, libraries)
    assert.equal(linked.length, pool.bytecode.length)
    assert.doesNotMatch(linked, /__\$/, 'no placeholder left')
    for (const [source, libs] of Object.entries(pool.linkReferences)) {
      for (const [lib, refs] of Object.entries(libs)) {
        for (const { start, length } of refs) {
          assert.equal(`0x${linked.slice(2 + start * 2, 2 + (start + length) * 2)}`, libraries[lib]!.toLowerCase(), `${source}:${lib}`)
        }
      }
    }
    // Outside the placeholders, nothing changed.
    const firstStart = Math.min(
      ...Object.values(pool.linkReferences).flatMap((libs) => Object.values(libs).flatMap((refs) => refs.map((r) => r.start))),
    )
    assert.ok(linked.slice(0, 2 + firstStart * 2) === pool.bytecode.slice(0, 2 + firstStart * 2), 'prefix unchanged')

    // Fully qualified keys work too.
    const fq = Object.fromEntries(
      Object.entries(pool.linkReferences).flatMap(([src, libs]) => Object.keys(libs).map((l) => [`${src}:${l}`, libraries[l]!])),
    )
    assert.ok(linkBytecode(pool, fq) === linked, 'same result with fully qualified names')

    const { BorrowLogic: _omitted, ...missing } = libraries
    assert.throws(() => linkBytecode(pool, missing), (e: unknown) => e instanceof UnlinkedLibraryError && e.library === 'BorrowLogic')
    assert.equal(linkBytecode(getArtifact('DevnetERC20')), getArtifact('DevnetERC20').bytecode)
  })
})

describe('contracts/out/abis.ts', function () {
  it('exports one typed ABI per contract, with Morpho EventsLib events merged in', function () {
    const morphoEvents = abis.morphoAbi.filter((i) => i.type === 'event').map((i) => (i as AbiEvent).name)
    for (const e of ['Liquidate', 'Borrow', 'SupplyCollateral', 'Supply', 'Repay', 'WithdrawCollateral', 'CreateMarket', 'AccrueInterest']) {
      assert.ok(morphoEvents.includes(e), `Morpho ABI has ${e}`)
    }
    assert.deepEqual(abis.morphoAbi, getArtifact('Morpho').abi)
    const expected: Record<string, string> = {
      aavePoolAbi: 'Pool', aaveOracleAbi: 'AaveOracle', aaveProtocolDataProviderAbi: 'AaveProtocolDataProvider',
      uniswapV2PairAbi: 'UniswapV2Pair', uniswapV2FactoryAbi: 'UniswapV2Factory', endpointV2Abi: 'EndpointV2',
      simpleMessageLibAbi: 'SimpleMessageLib', devnetERC20Abi: 'DevnetERC20', devnetPriceFeedAbi: 'DevnetPriceFeed',
      morphoFeedOracleAbi: 'MorphoFeedOracle', aggregate3Abi: 'Aggregate3', positionSeederAbi: 'PositionSeeder',
      oracleMockAbi: 'OracleMock', irmMockAbi: 'IrmMock', erc20MockAbi: 'ERC20Mock',
    }
    const exported = abis as unknown as Record<string, Abi>
    for (const [exportName, contract] of Object.entries(expected)) {
      assert.deepEqual(exported[exportName], getArtifact(contract).abi, exportName)
    }
  })

  it('derives export names in camelCase', function () {
    assert.equal(abiExportName('Morpho'), 'morphoAbi')
    assert.equal(abiExportName('DevnetERC20'), 'devnetERC20Abi')
    assert.equal(abiExportName('ERC20Mock'), 'erc20MockAbi')
    assert.equal(abiExportName('ACLManager'), 'aclManagerAbi')
    assert.equal(abiExportName('UniswapV2Pair'), 'uniswapV2PairAbi')
  })
})

describe('chains/evm revert decoding', function () {
  it('decodes custom errors, Error(string) with Aave codes named, and Panic', function () {
    const abi = getArtifact('DevnetPriceFeed').abi
    const data = encodeErrorResult({ abi, errorName: 'NonPositiveAnswer', args: [-5n] })
    const decoded = decodeRevert(data, abi)
    assert.equal(decoded.errorName, 'NonPositiveAnswer')
    assert.deepEqual(decoded.args, [-5n])
    assert.equal(decoded.description, 'NonPositiveAnswer(-5)')

    const aaveData =
      '0x08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000023435000000000000000000000000000000000000000000000000000000000000'
    const aave = decodeRevert(aaveData, [], { nameReason: aaveErrorName })
    assert.equal(aave.errorName, 'Error')
    assert.deepEqual(aave.args, ['45'])
    assert.equal(aave.description, 'Error("45") = HEALTH_FACTOR_NOT_BELOW_THRESHOLD')
    assert.equal(decodeRevert(aaveData, []).description, 'Error("45")')
    assert.equal(aaveErrorName('35'), 'HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD')

    const panic = decodeRevert('0x4e487b710000000000000000000000000000000000000000000000000000000000000011', [])
    assert.equal(panic.errorName, 'Panic')
    assert.deepEqual(panic.args, [17n])

    const unknown = decodeRevert('0xdeadbeef', abi)
    assert.equal(unknown.errorName, undefined)
    assert.match(unknown.description, /0xdeadbeef/)
  })

  it('finds revert data anywhere in a cause chain', function () {
    const inner = Object.assign(new Error('rpc'), { data: '0x4e487b710000000000000000000000000000000000000000000000000000000000000001' })
    const outer = new Error('outer', { cause: new Error('middle', { cause: inner }) })
    assert.equal(findRevertData(outer), inner.data)
    assert.equal(findRevertData(new Error('no data')), undefined)
    assert.equal(findRevertData({ data: { data: '0x12345678' } }), '0x12345678')
  })
})

describe('contracts/build.ts', function () {
  this.timeout(120_000)
  it('skips all work when no input changed', async function () {
    const build = () => run(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['contracts/build.ts'], { cwd: repoRoot })
    const first = await build()
    assert.match(first.stdout, /^contracts: (up to date|compiled \d+ contracts .*) \(?[\d.]+ s\)?/m)
    const second = await build()
    assert.match(second.stdout.trim(), /^contracts: up to date \([\d.]+ s\)$/)
  })
})
