import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Abi, Address, Hex } from 'viem'
import { BaseError } from '../protocol/errors.js'

/**
 * Library placeholders in a creation bytecode: source file → library name →
 * byte ranges (offsets in bytes from the start of the code, without `0x`).
 * Same shape as Hardhat's and solc's `linkReferences`.
 */
export type LinkReferences = Record<string, Record<string, { start: number; length: number }[]>>

/** A deployable contract: ABI, creation and runtime bytecode (`0x`-prefixed), and unresolved library links. */
export type Artifact = {
  contractName: string
  abi: Abi
  bytecode: Hex
  deployedBytecode: Hex
  linkReferences: LinkReferences
}

/** Repository root (the folder holding `contracts/` and `node_modules/`). */
export const repoRoot: string = dirname(dirname(fileURLToPath(import.meta.url)))
/** Where `npm run build:contracts` writes one `<Name>.json` per compiled contract. */
export const compiledArtifactsDir: string = join(repoRoot, 'contracts', 'out', 'artifacts')

const nodeModules = join(repoRoot, 'node_modules')

/** Shipped artifacts taken as they are from their npm packages (never recompiled). */
const packaged: Record<string, string> = {
  UniswapV2Factory: '@uniswap/v2-core/build/UniswapV2Factory.json',
  UniswapV2Pair: '@uniswap/v2-core/build/UniswapV2Pair.json',
  UniswapV2ERC20: '@uniswap/v2-core/build/UniswapV2ERC20.json',
  EndpointV2: '@layerzerolabs/lz-evm-protocol-v2/artifacts/contracts/EndpointV2.sol/EndpointV2.json',
  SimpleMessageLib:
    '@layerzerolabs/lz-evm-protocol-v2/artifacts/contracts/messagelib/SimpleMessageLib.sol/SimpleMessageLib.json',
}

const aaveArtifactsRoot = '@aave/core-v3/artifacts/contracts'

/** Thrown when no artifact of that name exists (not compiled yet, or misspelt). */
export class ArtifactNotFoundError extends BaseError {
  override name = 'ArtifactNotFoundError'
  readonly contractName: string
  constructor(contractName: string, searched: string[]) {
    super(`No artifact named "${contractName}".`, {
      metaMessages: [
        'Run `npm run build:contracts` to compile contracts/src and Morpho Blue,',
        'and check the name against the packaged artifacts (@aave/core-v3, @uniswap/v2-core, @layerzerolabs/lz-evm-protocol-v2).',
        `Searched: ${searched.join(', ')}`,
      ],
    })
    this.contractName = contractName
  }
}

/** Thrown when a bytecode still references a library that was not given an address. */
export class UnlinkedLibraryError extends BaseError {
  override name = 'UnlinkedLibraryError'
  readonly contractName: string
  readonly library: string
  constructor(contractName: string, library: string, source: string) {
    super(`${contractName} needs library ${library} (${source}) linked, but no valid address was given.`, {
      metaMessages: [
        `Deploy ${library} first and pass { ${library}: <address> } as the libraries argument.`,
      ],
    })
    this.contractName = contractName
    this.library = library
  }
}

/** Thrown when an artifact file exists but cannot be read as one. */
export class InvalidArtifactError extends BaseError {
  override name = 'InvalidArtifactError'
  constructor(path: string, cause: unknown) {
    super(`Artifact file ${path} is not a valid contract artifact.`, {
      cause,
      metaMessages: ['Run `npm run build:contracts` again (delete contracts/out to force a rebuild).'],
    })
  }
}

const cache = new Map<string, Artifact>()
let aaveIndex: Map<string, string> | undefined

/** Maps every Aave core-v3 artifact name to its file (built once, lazily). */
function getAaveIndex(): Map<string, string> {
  if (aaveIndex) return aaveIndex
  const index = new Map<string, string>()
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.json') && !entry.name.endsWith('.dbg.json')) {
        index.set(entry.name.slice(0, -'.json'.length), path)
      }
    }
  }
  walk(join(nodeModules, aaveArtifactsRoot))
  aaveIndex = index
  return index
}

function hex(value: unknown): Hex {
  if (typeof value !== 'string') throw new TypeError('bytecode is not a string')
  return (value.startsWith('0x') ? value : `0x${value}`) as Hex
}

/** Reads Hardhat, Truffle-style (Uniswap's `build/`) and our own artifact files into one shape. */
function readArtifact(path: string, name: string): Artifact {
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>
    const bytecode = hex(raw.bytecode ?? raw.evm?.bytecode?.object)
    const deployedBytecode = hex(raw.deployedBytecode ?? raw.evm?.deployedBytecode?.object)
    return {
      contractName: typeof raw.contractName === 'string' ? raw.contractName : name,
      abi: raw.abi as Abi,
      bytecode,
      deployedBytecode,
      linkReferences: (raw.linkReferences ?? raw.evm?.bytecode?.linkReferences ?? {}) as LinkReferences,
    }
  } catch (err) {
    throw new InvalidArtifactError(path, err)
  }
}

/**
 * Returns the artifact of a contract by name. Lookup order:
 * 1. `contracts/out/artifacts/<name>.json`: our contracts/src contracts and Morpho Blue
 *    ('Morpho', 'OracleMock', 'IrmMock', 'ERC20Mock'), written by `npm run build:contracts`;
 * 2. packaged: 'UniswapV2Factory', 'UniswapV2Pair' (@uniswap/v2-core build),
 *    'EndpointV2', 'SimpleMessageLib' (@layerzerolabs/lz-evm-protocol-v2);
 * 3. any @aave/core-v3 artifact by contract name ('Pool', 'PoolAddressesProvider', 'ACLManager',
 *    'PoolConfigurator', 'AaveOracle', 'AaveProtocolDataProvider', 'AToken', 'VariableDebtToken',
 *    'StableDebtToken', 'DefaultReserveInterestRateStrategy', 'BorrowLogic', ...).
 *
 * Artifacts are cached per process; the returned object must not be mutated.
 *
 * @throws ArtifactNotFoundError when no such artifact exists (e.g. not compiled yet: run `npm run build:contracts`).
 * @throws InvalidArtifactError when the file cannot be parsed.
 * @example getArtifact('Morpho').abi
 */
export function getArtifact(name: string): Artifact {
  const cached = cache.get(name)
  if (cached) return cached
  const candidates: string[] = []
  if (/^[A-Za-z_$][\w$]*$/.test(name)) {
    candidates.push(join(compiledArtifactsDir, `${name}.json`))
    const pkg = packaged[name]
    if (pkg) candidates.push(join(nodeModules, pkg))
    const aave = getAaveIndex().get(name)
    if (aave) candidates.push(aave)
  }
  const path = candidates.find((p) => existsSync(p))
  if (!path) {
    throw new ArtifactNotFoundError(name, [
      'contracts/out/artifacts',
      '@uniswap/v2-core/build',
      '@layerzerolabs/lz-evm-protocol-v2/artifacts',
      aaveArtifactsRoot,
    ])
  }
  const artifact = readArtifact(path, name)
  cache.set(name, artifact)
  return artifact
}

/**
 * Returns the creation bytecode with every library placeholder replaced by its address.
 * `libraries` is keyed by library name (`BorrowLogic`) or fully qualified (`path/File.sol:BorrowLogic`).
 * Extra entries are ignored, so one map of all deployed libraries can be passed everywhere.
 *
 * @throws UnlinkedLibraryError naming the first library referenced but not given.
 * @example linkBytecode(getArtifact('Pool'), { BorrowLogic: '0x…', ... })
 */
export function linkBytecode(artifact: Artifact, libraries: Record<string, Address> = {}): Hex {
  let code = artifact.bytecode.slice(2)
  for (const [source, libs] of Object.entries(artifact.linkReferences)) {
    for (const [lib, refs] of Object.entries(libs)) {
      const address = libraries[lib] ?? libraries[`${source}:${lib}`]
      if (!address) throw new UnlinkedLibraryError(artifact.contractName, lib, source)
      const body = address.toLowerCase().replace(/^0x/, '')
      if (!/^[0-9a-f]{40}$/.test(body)) throw new UnlinkedLibraryError(artifact.contractName, lib, source)
      for (const { start, length } of refs) {
        code = code.slice(0, start * 2) + body.slice(0, length * 2).padStart(length * 2, '0') + code.slice((start + length) * 2)
      }
    }
  }
  return `0x${code}` as Hex
}

/** Names of the libraries that `artifact` must be linked against, e.g. ['BorrowLogic', ...] for 'Pool'. */
export function requiredLibraries(artifact: Artifact): string[] {
  return Object.values(artifact.linkReferences).flatMap((libs) => Object.keys(libs))
}
