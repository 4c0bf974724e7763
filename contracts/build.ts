/**
 * The contract build: `npm run build:contracts` (= `tsx contracts/build.ts`).
 *
 * Two compilation units, compiled in parallel in worker threads with the npm solc-js compilers:
 * - ours: every `contracts/src/**\/*.sol`, solc 0.8.37 (`solc`), evmVersion cancun, optimizer on (200 runs);
 * - Morpho Blue 1.0.0 (`@morpho-org/morpho-blue/src/Morpho.sol` and `src/mocks/{OracleMock,IrmMock,ERC20Mock}.sol`),
 *   which ships sources only: solc 0.8.19 (`solc-0819` alias), evmVersion paris, optimizer 999999 runs, no via-IR.
 *
 * Writes `contracts/out/artifacts/<Name>.json` ({contractName, abi, bytecode, deployedBytecode, linkReferences})
 * and `contracts/out/abis.ts` (typed `as const` ABIs for viem: ours, Morpho with EventsLib's events merged in,
 * and the packaged Aave V3, Uniswap V2 and LayerZero ABIs, which are read from their packages and never recompiled).
 *
 * Each unit is skipped when the hash of its sources, compiler version and settings matches `contracts/out/.build-hash`.
 * Prints one line (compiled or up to date, with seconds). Compile errors print solc's messages and exit 1.
 * `--force` rebuilds everything; `--verbose` also prints warnings from our sources.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Abi, AbiEvent } from 'viem'
import { getArtifact, repoRoot, type Artifact } from './artifacts.js'

const outDir = join(repoRoot, 'contracts', 'out')
const artifactsDir = join(outDir, 'artifacts')
const hashFile = join(outDir, '.build-hash')
const abisFile = join(outDir, 'abis.ts')
const srcDir = join(repoRoot, 'contracts', 'src')
const nodeModules = join(repoRoot, 'node_modules')

const MORPHO_PKG = '@morpho-org/morpho-blue'
const MORPHO_FILES = ['src/Morpho.sol', 'src/mocks/OracleMock.sol', 'src/mocks/IrmMock.sol', 'src/mocks/ERC20Mock.sol']
const MORPHO_EVENTS_FILE = `${MORPHO_PKG}/src/libraries/EventsLib.sol`

/** Packages whose sources or artifacts feed the build; their versions enter the hash. */
const INPUT_PACKAGES = [
  'solc',
  'solc-0819',
  MORPHO_PKG,
  '@openzeppelin/contracts',
  '@layerzerolabs/oapp-evm',
  '@layerzerolabs/lz-evm-protocol-v2',
  '@layerzerolabs/lz-evm-messagelib-v2',
  'solidity-bytes-utils',
  '@aave/core-v3',
  '@uniswap/v2-core',
]

/** Packaged (shipped, never recompiled) artifacts that get a typed ABI in abis.ts: contract name → export name. */
const PACKAGED_ABIS: Record<string, string> = {
  Pool: 'aavePoolAbi',
  PoolAddressesProvider: 'aavePoolAddressesProviderAbi',
  ACLManager: 'aaveACLManagerAbi',
  PoolConfigurator: 'aavePoolConfiguratorAbi',
  AaveOracle: 'aaveOracleAbi',
  AaveProtocolDataProvider: 'aaveProtocolDataProviderAbi',
  AToken: 'aaveATokenAbi',
  VariableDebtToken: 'aaveVariableDebtTokenAbi',
  StableDebtToken: 'aaveStableDebtTokenAbi',
  DefaultReserveInterestRateStrategy: 'aaveDefaultReserveInterestRateStrategyAbi',
  UniswapV2Factory: 'uniswapV2FactoryAbi',
  UniswapV2Pair: 'uniswapV2PairAbi',
  EndpointV2: 'endpointV2Abi',
  SimpleMessageLib: 'simpleMessageLibAbi',
}

const OUTPUTS = ['abi', 'evm.bytecode.object', 'evm.bytecode.linkReferences', 'evm.deployedBytecode.object']

type Unit = {
  key: 'ours' | 'morpho'
  compiler: string
  /** Source unit name → content; imports not listed are read from the repo root, then node_modules. */
  sources: Record<string, string>
  settings: Record<string, unknown>
  /** Source units whose contracts become artifacts. */
  emit: string[]
}

type SolcError = { severity: string; formattedMessage?: string; message: string; sourceLocation?: { file: string } }
type SolcContract = {
  abi: Abi
  evm: { bytecode: { object: string; linkReferences: Artifact['linkReferences'] }; deployedBytecode: { object: string } }
}
type SolcOutput = { errors?: SolcError[]; contracts?: Record<string, Record<string, SolcContract>> }

type BuildState = Partial<Record<Unit['key'], { hash: string; names: string[] }>> & { abis?: string }

/** Runs solc-js in a worker thread (the wasm compiler is synchronous; two workers use both cores). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { existsSync, readFileSync } = require('node:fs')
const { join } = require('node:path')
const solc = require(workerData.compiler)
const findImports = (path) => {
  for (const root of workerData.roots) {
    const file = join(root, path)
    if (existsSync(file)) return { contents: readFileSync(file, 'utf8') }
  }
  return { error: 'File not found: ' + path + ' (looked in the repository and node_modules)' }
}
parentPort.postMessage({ version: solc.version(), output: solc.compile(workerData.input, { import: findImports }) })
`

function compileInWorker(unit: Unit): Promise<{ version: string; output: SolcOutput; seconds: number }> {
  if (unit.emit.length === 0) return Promise.resolve({ version: 'none', output: {}, seconds: 0 })
  const input = JSON.stringify({
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(unit.sources).map(([name, content]) => [name, { content }])),
    settings: {
      ...unit.settings,
      outputSelection: Object.fromEntries(unit.emit.map((file) => [file, { '*': OUTPUTS }])),
    },
  })
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { compiler: join(nodeModules, unit.compiler), input, roots: [repoRoot, nodeModules] },
    })
    worker.once('message', (msg: { version: string; output: string }) => {
      resolve({ version: msg.version, output: JSON.parse(msg.output) as SolcOutput, seconds: (performance.now() - t0) / 1000 })
      void worker.terminate()
    })
    worker.once('error', reject)
  })
}

function listSol(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listSol(path))
    else if (entry.name.endsWith('.sol')) out.push(path)
  }
  return out.sort()
}

function packageVersion(name: string): string {
  const path = join(nodeModules, name, 'package.json')
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version : 'absent'
}

function sha256(parts: string[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(`${p.length}:${p}`)
  return h.digest('hex')
}

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, content)
  renameSync(tmp, path)
}

/** Lower camelCase of a contract name, plus `Abi`: DevnetERC20 → devnetERC20Abi, ERC20Mock → erc20MockAbi. */
export function abiExportName(contractName: string): string {
  const lead = /^[A-Z]+(?=[A-Z][a-z]|[0-9_]|$)/.exec(contractName)?.[0]
  const camel = lead && lead.length > 1
    ? lead.toLowerCase() + contractName.slice(lead.length)
    : contractName.charAt(0).toLowerCase() + contractName.slice(1)
  return `${camel}Abi`
}

function ourUnit(): Unit {
  const files = listSol(srcDir)
  const sources: Record<string, string> = {}
  for (const file of files) sources[relative(repoRoot, file).split(sep).join('/')] = readFileSync(file, 'utf8')
  return {
    key: 'ours',
    compiler: 'solc',
    sources,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun' },
    emit: Object.keys(sources),
  }
}

function morphoUnit(): Unit {
  const sources: Record<string, string> = {}
  for (const file of MORPHO_FILES) {
    sources[`${MORPHO_PKG}/${file}`] = readFileSync(join(nodeModules, MORPHO_PKG, file), 'utf8')
  }
  return {
    key: 'morpho',
    compiler: 'solc-0819',
    sources,
    settings: { optimizer: { enabled: true, runs: 999999 }, evmVersion: 'paris' },
    emit: [...Object.keys(sources), MORPHO_EVENTS_FILE],
  }
}

function unitHash(unit: Unit, self: string): string {
  const versions = INPUT_PACKAGES.map((p) => `${p}@${packageVersion(p)}`)
  return sha256([
    self,
    ...versions,
    unit.compiler,
    JSON.stringify(unit.settings),
    ...Object.entries(unit.sources).flatMap(([name, content]) => [name, content]),
  ])
}

class CompileFailed extends Error {}

/** Turns a unit's solc output into artifacts (throws CompileFailed after printing solc's errors). */
function collect(unit: Unit, output: SolcOutput, verbose: boolean): Artifact[] {
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length) {
    for (const e of errors) process.stderr.write(`${e.formattedMessage ?? e.message}\n`)
    throw new CompileFailed(`${errors.length} compile error(s) in ${unit.key === 'ours' ? 'contracts/src' : 'Morpho Blue'}`)
  }
  if (verbose) {
    for (const e of output.errors ?? []) {
      if (e.sourceLocation?.file && !e.sourceLocation.file.startsWith('@')) {
        process.stderr.write(`${e.formattedMessage ?? e.message}\n`)
      }
    }
  }
  const artifacts: Artifact[] = []
  const seen = new Map<string, string>()
  const extraEvents: AbiEvent[] = []
  for (const [file, contracts] of Object.entries(output.contracts ?? {})) {
    if (!unit.emit.includes(file)) continue
    for (const [name, c] of Object.entries(contracts)) {
      if (file === MORPHO_EVENTS_FILE) {
        extraEvents.push(...(c.abi.filter((i) => i.type === 'event') as AbiEvent[]))
        continue
      }
      if (seen.has(name)) {
        process.stderr.write(`error: contract name ${name} is defined in both ${seen.get(name)} and ${file}; names must be unique.\n`)
        throw new CompileFailed('duplicate contract name')
      }
      seen.set(name, file)
      artifacts.push({
        contractName: name,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        linkReferences: c.evm.bytecode.linkReferences ?? {},
      })
    }
  }
  // solc 0.8.19 leaves events emitted from libraries out of the contract ABI: merge EventsLib's into Morpho's.
  const morpho = artifacts.find((a) => a.contractName === 'Morpho')
  if (morpho) {
    const have = new Set(morpho.abi.filter((i) => i.type === 'event').map((i) => (i as AbiEvent).name))
    morpho.abi = [...morpho.abi, ...extraEvents.filter((e) => !have.has(e.name))]
  }
  return artifacts
}

function writeAbis(ourNames: string[], morphoNames: string[]): void {
  const lines = [
    '// Generated by `npm run build:contracts` (contracts/build.ts). Do not edit.',
    '// Typed ABIs for viem: contracts/src and Morpho Blue (compiled), Aave V3, Uniswap V2 and LayerZero (from their packages).',
    '',
  ]
  const used = new Map<string, string>()
  const emit = (exportName: string, contractName: string, origin: string): void => {
    const abi = getArtifact(contractName).abi
    if (used.has(exportName)) throw new CompileFailed(`ABI export ${exportName} is taken by both ${used.get(exportName)} and ${contractName}`)
    used.set(exportName, contractName)
    lines.push(`/** ABI of ${contractName} (${origin}). */`)
    lines.push(`export const ${exportName} = ${JSON.stringify(abi)} as const`, '')
  }
  for (const name of [...ourNames].sort()) {
    if (getArtifact(name).abi.length > 0) emit(abiExportName(name), name, 'contracts/src')
  }
  for (const name of morphoNames) emit(abiExportName(name), name, `${MORPHO_PKG}@${packageVersion(MORPHO_PKG)}`)
  for (const [name, exportName] of Object.entries(PACKAGED_ABIS)) emit(exportName, name, 'package artifact')
  writeAtomic(abisFile, lines.join('\n'))
}

const lockFile = join(outDir, '.build-lock')

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One build at a time per checkout: concurrent `npm test` / `npm run devnet` runs wait for the
 * running build and then find everything up to date. A lock left by a dead process is taken over.
 */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      let text = ''
      try {
        text = readFileSync(lockFile, 'utf8').trim()
      } catch {
        continue // released meanwhile
      }
      const holder = Number(text)
      // An empty file is a lock being written right now: wait for it.
      if (text !== '' && (!Number.isInteger(holder) || holder <= 0 || !pidAlive(holder))) {
        rmSync(lockFile, { force: true })
        continue
      }
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  try {
    return await fn()
  } finally {
    rmSync(lockFile, { force: true })
  }
}

async function main(): Promise<void> {
  const started = performance.now()
  mkdirSync(artifactsDir, { recursive: true })
  await withBuildLock(() => build(started))
}

async function build(started: number): Promise<void> {
  const force = process.argv.includes('--force')
  const verbose = process.argv.includes('--verbose')
  const self = readFileSync(new URL(import.meta.url), 'utf8')

  let state: BuildState = {}
  try {
    state = JSON.parse(readFileSync(hashFile, 'utf8')) as BuildState
  } catch {
    state = {}
  }
  const units = [ourUnit(), morphoUnit()]
  const hashes = Object.fromEntries(units.map((u) => [u.key, unitHash(u, self)])) as Record<Unit['key'], string>
  const upToDate = (u: Unit): boolean => {
    const prev = state[u.key]
    return !force && prev?.hash === hashes[u.key] && prev.names.every((n) => existsSync(join(artifactsDir, `${n}.json`)))
  }
  const stale = units.filter((u) => !upToDate(u))
  const abisHash = sha256([hashes.ours, hashes.morpho])
  if (stale.length === 0 && state.abis === abisHash && existsSync(abisFile)) {
    console.log(`contracts: up to date (${((performance.now() - started) / 1000).toFixed(1)} s)`)
    return
  }

  const results = await Promise.all(stale.map(async (u) => ({ unit: u, ...(await compileInWorker(u)) })))
  let count = 0
  let failed: unknown
  for (const { unit, output } of results) {
    let artifacts: Artifact[]
    try {
      artifacts = collect(unit, output, verbose)
    } catch (err) {
      failed ??= err // keep what the other unit produced; report after saving it
      continue
    }
    const names = artifacts.map((a) => a.contractName)
    for (const old of state[unit.key]?.names ?? []) {
      if (!names.includes(old)) rmSync(join(artifactsDir, `${old}.json`), { force: true })
    }
    for (const a of artifacts) writeAtomic(join(artifactsDir, `${a.contractName}.json`), `${JSON.stringify(a, null, 1)}\n`)
    state[unit.key] = { hash: hashes[unit.key], names }
    count += artifacts.length
  }
  if (failed) {
    writeAtomic(hashFile, `${JSON.stringify({ ...state, abis: undefined }, null, 1)}\n`)
    throw failed
  }
  writeAbis(state.ours?.names ?? [], state.morpho?.names ?? [])
  state.abis = abisHash
  writeAtomic(hashFile, `${JSON.stringify(state, null, 1)}\n`)
  const what = results.map(
    (r) => `${r.unit.key === 'ours' ? 'contracts/src' : 'Morpho Blue'} (solc ${r.version.split('+')[0]}, ${r.seconds.toFixed(1)} s)`,
  )
  console.log(
    `contracts: compiled ${count} contracts from ${what.join(' and ')} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
}

// Run only as a script (`tsx contracts/build.ts`), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    if (err instanceof CompileFailed) {
      console.error(`contracts: build failed: ${err.message}`)
    } else {
      console.error('contracts: build failed:', err)
    }
    process.exit(1)
  })
}
