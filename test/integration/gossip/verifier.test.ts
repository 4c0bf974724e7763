import assert from 'node:assert/strict'
import { bytesToHex, createPublicClient, createWalletClient, http, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { getArtifact } from '../../../contracts/artifacts.js'
import { startAnvil, type Anvil } from '../../../chains/devnet/anvil.js'
import { PayloadKind, bytesToAmount, healthSnapshotToWire, type WireHealthSnapshot, type WireLiquiditySnapshot } from '../../../protocol/proto/codec.js'
import { createDomainSeparator, healthSnapshotDigest, liquiditySnapshotDigest } from '../../../protocol/signing/eip712.js'
import { createOperatorSigner, signPayload } from '../../../protocol/signing/envelope.js'
import { TEST_KEYS, makeAaveHealthSnapshot, makeWireHealthSnapshot, makeWireLiquiditySnapshot } from '../../unit/gossip/fixtures.js'

const health = (s: WireHealthSnapshot) => [
  {
    chainId: BigInt(s.chainId), protocol: s.protocol, market: bytesToHex(s.market), blockNumber: BigInt(s.blockNumber),
    blockHash: bytesToHex(s.blockHash), observedAt: BigInt(s.observedAt), full: s.full, part: s.part, parts: s.parts,
    blockTimestamp: BigInt(s.blockTimestamp ?? 0),
  },
  s.accounts.map((a) => ({
    borrower: bytesToHex(a.borrower), collateral: bytesToAmount(a.collateral), borrowAssets: bytesToAmount(a.borrowAssets),
    healthFactor: bytesToAmount(a.healthFactor), liquidatable: a.liquidatable, maxSeizable: bytesToAmount(a.maxSeizable),
    borrowShares: bytesToAmount(a.borrowShares ?? new Uint8Array(0)),
    balances: (a.balances ?? []).map((b) => ({ reserve: b.reserve, collateral: bytesToAmount(b.collateral), debt: bytesToAmount(b.debt) })),
  })),
  {
    morpho: s.morpho
      ? [{
          loanToken: bytesToHex(s.morpho.loanToken), collateralToken: bytesToHex(s.morpho.collateralToken), lltv: bytesToAmount(s.morpho.lltv),
          totalSupplyAssets: bytesToAmount(s.morpho.totalSupplyAssets), totalBorrowAssets: bytesToAmount(s.morpho.totalBorrowAssets),
          totalBorrowShares: bytesToAmount(s.morpho.totalBorrowShares), oraclePrice: bytesToAmount(s.morpho.oraclePrice),
        }]
      : [],
    aaveReserves: (s.aaveReserves ?? []).map((r) => ({
      asset: bytesToHex(r.asset), liquidationThresholdBps: r.liquidationThresholdBps, liquidationBonusBps: r.liquidationBonusBps,
      liquidationProtocolFeeBps: r.liquidationProtocolFeeBps, price: bytesToAmount(r.price),
    })),
  },
] as const
const liquidity = (s: WireLiquiditySnapshot) => [
  {
    chainId: BigInt(s.chainId), venue: s.venue, pair: bytesToHex(s.pair), token0: bytesToHex(s.token0), token1: bytesToHex(s.token1),
    blockNumber: BigInt(s.blockNumber), blockHash: bytesToHex(s.blockHash), observedAt: BigInt(s.observedAt),
    reserve0: bytesToAmount(s.reserve0), reserve1: bytesToAmount(s.reserve1),
  },
  s.depth.map((p) => ({ zeroForOne: p.zeroForOne, impactBps: p.impactBps, amountIn: bytesToAmount(p.amountIn), amountOut: bytesToAmount(p.amountOut) })),
] as const

describe('EIP-712 snapshot signatures on a chain (anvil)', function () {
  this.timeout(30_000)
  let anvil: Anvil
  let address: Address
  const artifact = getArtifact('SnapshotSignatureVerifier')
  let client: ReturnType<typeof createPublicClient>

  before(async () => {
    anvil = await startAnvil({ chainId: 31337 })
    const account = privateKeyToAccount(TEST_KEYS[0])
    const transport = http(anvil.rpcUrl)
    client = createPublicClient({ transport })
    const wallet = createWalletClient({ account, transport })
    const hash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, chain: null })
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 })
    address = receipt.contractAddress!
  })
  after(async () => {
    await anvil?.stop()
  })

  const call = (functionName: string, args: readonly unknown[]) =>
    client.readContract({ address, abi: artifact.abi, functionName, args }) as Promise<Hex>

  it('recovers the signer of a TypeScript-signed HealthSnapshot and computes the same digest', async () => {
    const domain = { chainId: 31337, verifyingContract: address }
    const sep = createDomainSeparator(domain)
    assert.equal(await call('domainSeparator', []), bytesToHex(sep))
    const signer = createOperatorSigner(TEST_KEYS[3])
    for (const n of [0, 1, 12, -3]) {
      // n < 0: an Aave snapshot of |n| users (reserves and per-reserve balances).
      const s = n < 0 ? healthSnapshotToWire(makeAaveHealthSnapshot({ n: -n, seed: `chain${n}` })) : makeWireHealthSnapshot({ n, seed: `chain${n}` })
      s.full = n % 2 === 0
      s.part = 1
      s.parts = 3
      const signed = signPayload({ kind: PayloadKind.healthSnapshot, snapshot: s }, signer, sep)
      assert.equal(await call('healthSnapshotDigest', health(s)), bytesToHex(healthSnapshotDigest(sep, s)))
      const recovered = await call('recoverHealthSnapshotSigner', [...health(s), bytesToHex(signed.envelope.signature)])
      assert.equal(recovered.toLowerCase(), signer.address.toLowerCase())
    }
  })

  it('recovers the signer of a TypeScript-signed LiquiditySnapshot; another payload recovers someone else', async () => {
    const sep = createDomainSeparator({ chainId: 31337, verifyingContract: address })
    const signer = createOperatorSigner(TEST_KEYS[4])
    const s = makeWireLiquiditySnapshot()
    const signed = signPayload({ kind: PayloadKind.liquiditySnapshot, snapshot: s }, signer, sep)
    assert.equal(await call('liquiditySnapshotDigest', liquidity(s)), bytesToHex(liquiditySnapshotDigest(sep, s)))
    const recovered = await call('recoverLiquiditySnapshotSigner', [...liquidity(s), bytesToHex(signed.envelope.signature)])
    assert.equal(recovered.toLowerCase(), signer.address.toLowerCase())
    const other = { ...s, observedAt: s.observedAt + 1 }
    const forged = await call('recoverLiquiditySnapshotSigner', [...liquidity(other), bytesToHex(signed.envelope.signature)]).catch(() => '0x')
    assert.notEqual(forged.toLowerCase(), signer.address.toLowerCase())
  })
})
