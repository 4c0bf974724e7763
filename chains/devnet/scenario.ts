import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parseUnits } from 'viem'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { BaseError } from '../../protocol/errors.js'

/**
 * The devnet scenario: which chains to start and what to deploy on each
 * (tokens with USD prices, Morpho Blue markets, Aave V3 reserves, Uniswap V2
 * pairs, borrowers and their positions) plus an optional price path.
 *
 * The file is YAML or JSON; its schema is documented in docs/scenario.md.
 * Amounts, prices and LLTVs are decimal strings (numbers are accepted and
 * normalised to strings) so that no precision is lost: token amounts are in
 * whole tokens (`"1.5"` WETH = 1.5e18 wei), prices in USD (`"3000.25"`, at
 * most 8 decimals, stored on-chain 1e8-scaled), LLTVs as fractions (`"0.86"`,
 * WAD on-chain), and Aave parameters in basis points (`...Bps`).
 */

// ---------------------------------------------------------------------------
// Leaf schemas
// ---------------------------------------------------------------------------

const DECIMAL_RE = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/

/** A non-negative decimal given as a string or a number, normalised to a string. */
const decimal = z
  .union([z.string(), z.number()], { error: 'must be a decimal number, e.g. "1.5"' })
  .transform((v, ctx) => {
    const s = typeof v === 'number' ? numberToDecimal(v) : v.trim()
    if (s === undefined || !DECIMAL_RE.test(s)) {
      ctx.addIssue({ code: 'custom', message: `must be a non-negative decimal number such as "1.5" (got ${JSON.stringify(v)})` })
      return z.NEVER
    }
    return s
  })

function numberToDecimal(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined
  const s = String(n)
  if (/e/i.test(s)) {
    // 1e21 and up, or below 1e-6: write the integer form when exact.
    if (Number.isInteger(n) && Number.isSafeInteger(n)) return BigInt(n).toString()
    return undefined
  }
  return s
}

const intIn = (min: number, max: number, what = 'an integer') =>
  z
    .number({ error: `must be ${what}` })
    .int({ error: `must be ${what}` })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })

const identifier = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,31}$/, {
    error: 'must start with a letter and hold only letters, digits, "_", "." or "-" (at most 32 characters)',
  })

const symbol = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z][A-Za-z0-9]{0,15}$/, { error: 'must be a token symbol: a letter, then letters or digits (at most 16)' })

const pairOrMarketName = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z0-9_.\/-]{1,40}$/, { error: 'must be 1-40 letters, digits or "_", ".", "/", "-"' })

// ---------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------

const tokenSchema = z.strictObject({
  /** Token symbol, unique on its chain. */
  symbol,
  /** ERC-20 decimals. */
  decimals: intIn(0, 36),
  /** Initial USD price (at most 8 decimals; on-chain feeds are 1e8-scaled). */
  priceUsd: decimal,
})

const morphoMarketSchema = z.strictObject({
  /** Market name; defaults to `<collateral>/<loan>`. */
  name: pairOrMarketName.optional(),
  /** Loan token symbol. */
  loan: symbol,
  /** Collateral token symbol. */
  collateral: symbol,
  /** Liquidation LTV as a fraction, e.g. "0.86" (WAD on-chain); 0 < lltv < 1. */
  lltv: decimal,
  /** Loan tokens supplied by the deployer (whole tokens). */
  supply: decimal.default('0'),
})

const aaveReserveSchema = z.strictObject({
  /** Token symbol of the reserve. */
  symbol,
  /** Maximum loan-to-value, in bps (8000 = 80%). 0 = cannot back a borrow. */
  ltvBps: intIn(0, 9999),
  /** Liquidation threshold, in bps (8250 = 82.5%). */
  liquidationThresholdBps: intIn(0, 9999),
  /** Liquidation bonus, in bps and including the principal (10500 = 5% bonus). */
  liquidationBonusBps: intIn(0, 20000),
  /** Whether the reserve can be borrowed (variable rate). */
  borrowingEnabled: z.boolean({ error: 'must be true or false' }).default(true),
  /** Tokens supplied by the deployer (whole tokens). */
  supply: decimal.default('0'),
})

const uniswapV2PairSchema = z.strictObject({
  /** Pair name; defaults to `<tokens[0]>/<tokens[1]>`. */
  name: pairOrMarketName.optional(),
  /** The two token symbols. */
  tokens: z.tuple([symbol, symbol], { error: 'must be a list of two token symbols' }),
  /** Seeded reserves, in whole tokens, in the order of `tokens`. */
  reserves: z.tuple([decimal, decimal], { error: 'must be a list of two amounts' }),
})

const morphoPositionSchema = z.strictObject({
  protocol: z.literal('morpho'),
  /** Market name (see morpho.markets[].name). */
  market: z.string({ error: 'must be a market name' }),
  /** Collateral supplied (whole collateral tokens). */
  collateral: decimal,
  /** Loan tokens borrowed (whole tokens). */
  borrow: decimal.default('0'),
})

const aavePositionSchema = z.strictObject({
  protocol: z.literal('aave'),
  /** Supplied collateral: symbol → whole tokens. */
  collateral: z.record(symbol, decimal, { error: 'must map token symbols to amounts' }),
  /** Variable-rate borrows: symbol → whole tokens. */
  borrow: z.record(symbol, decimal, { error: 'must map token symbols to amounts' }).default({}),
})

const positionSchema = z.discriminatedUnion('protocol', [morphoPositionSchema, aavePositionSchema], {
  error: 'must have protocol "morpho" or "aave"',
})

const borrowerSchema = z.strictObject({
  /** Borrower name; its key is derived from it (same account on every chain). */
  name: identifier,
  positions: z.array(positionSchema, { error: 'must be a list' }).default([]),
})

const chainSchema = z.strictObject({
  /** Chain name, unique in the scenario. */
  name: identifier,
  /** EVM chain id, unique. */
  chainId: intIn(1, 2 ** 32 - 1, 'a positive integer'),
  /** LayerZero V2 endpoint id (EID), unique. */
  eid: intIn(1, 2 ** 32 - 1, 'a positive integer'),
  /** Block time in ms once deployed; 0 = mine one block per transaction (automine). */
  blockTimeMs: intIn(0, 3_600_000).default(1000),
  /** With blockTimeMs > 0: also mine each transaction at once, between interval blocks (anvil --mixed-mining). */
  automine: z.boolean({ error: 'must be true or false' }).default(false),
  tokens: z.array(tokenSchema, { error: 'must be a list' }).min(1, { error: 'must list at least one token' }),
  morpho: z.strictObject({ markets: z.array(morphoMarketSchema, { error: 'must be a list' }).default([]) }).optional(),
  aave: z.strictObject({ reserves: z.array(aaveReserveSchema, { error: 'must be a list' }).default([]) }).optional(),
  uniswapV2: z.strictObject({ pairs: z.array(uniswapV2PairSchema, { error: 'must be a list' }).default([]) }).optional(),
  borrowers: z.array(borrowerSchema, { error: 'must be a list' }).default([]),
})

const priceStepSchema = z.strictObject({
  /** Seconds after the devnet is up. */
  atSeconds: z.number({ error: 'must be a number of seconds' }).min(0, { error: 'must be at least 0' }),
  /** Chain name; omitted = every chain that lists the symbol. */
  chain: identifier.optional(),
  symbol,
  /** New USD price (at most 8 decimals). */
  priceUsd: decimal,
  /** Free text shown in logs, e.g. "shock: WETH -20%". */
  note: z.string().optional(),
})

const gasLimit = (min: number, max: number) =>
  z
    .number({ error: 'must be a gas amount (integer)' })
    .int({ error: 'must be a gas amount (integer)' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })

/** The liqnet network run on the devnet: its operators and the settlement contracts (docs/settlement.md). */
const networkSchema = z.strictObject({
  /** Operators n (devnet keys: anvil's test mnemonic at HD indices 100..100+n-1); the hub's quorum is 2f+1, f = floor((n-1)/3). */
  operators: intIn(1, 256).default(4),
  /** Chain of the LiquidationHub; every other chain gets a LiquidationSpoke. Default: the first chain. */
  hub: identifier.optional(),
  /** lzReceive gas enforced for legs sent hub → spoke (the leg's liquidation, swaps and the receipt). */
  legGas: gasLimit(200_000, 30_000_000).default(2_000_000),
  /** lzReceive gas enforced for receipts sent spoke → hub. */
  receiptGas: gasLimit(50_000, 30_000_000).default(300_000),
  /** ETH given to each spoke to pay receipt fees (whole ETH). */
  spokeEth: decimal.default('10'),
  /** Working capital of each settlement contract, in USD per token ("0" = none): pays the part of a leg's repayment its planned sales do not cover. */
  floatUsd: decimal.default('250000'),
})

const baseScenarioSchema = z.strictObject({
  /** Scenario name (keys the state dump together with the content hash). */
  name: identifier.default('scenario'),
  /** Free text. */
  description: z.string().optional(),
  chains: z.array(chainSchema, { error: 'must be a list' }).min(1, { error: 'must list at least one chain' }),
  pricePath: z.array(priceStepSchema, { error: 'must be a list' }).default([]),
  /** Operators and settlement; all defaults when omitted. */
  network: networkSchema.prefault({}),
})

// ---------------------------------------------------------------------------
// Cross-field rules
// ---------------------------------------------------------------------------

const WAD = 10n ** 18n
const ORACLE_PRICE_SCALE = 10n ** 36n
const PERCENTAGE_FACTOR = 10_000n

/** Number of digits after the point in a normalised decimal string. */
function fractionDigits(s: string): number {
  const i = s.indexOf('.')
  return i < 0 ? 0 : s.length - i - 1
}

/** Whole-token decimal string → base units (exact; checked beforehand). */
export function toUnits(amount: string, decimals: number): bigint {
  return parseUnits(amount, decimals)
}

/** USD decimal string → 1e8-scaled price (Chainlink convention). */
export function toUsd1e8(priceUsd: string): bigint {
  return parseUnits(priceUsd, 8)
}

/** LLTV fraction string → WAD. */
export function toWad(fraction: string): bigint {
  return parseUnits(fraction, 18)
}

/** Name of a Morpho market: its `name`, or `<collateral>/<loan>`. */
export function morphoMarketName(m: { name?: string; loan: string; collateral: string }): string {
  return m.name ?? `${m.collateral}/${m.loan}`
}

/** Name of a Uniswap V2 pair: its `name`, or `<tokens[0]>/<tokens[1]>`. */
export function uniswapV2PairName(p: { name?: string; tokens: readonly [string, string] }): string {
  return p.name ?? `${p.tokens[0]}/${p.tokens[1]}`
}

type Ctx = z.RefinementCtx
type Path = (string | number)[]

function crossCheck(s: z.output<typeof baseScenarioSchema>, ctx: Ctx): void {
  const fail = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message })
  const unique = <T>(items: T[], key: (t: T) => string | number, field: string, basePath: Path) => {
    const seen = new Map<string | number, number>()
    items.forEach((item, i) => {
      const k = key(item)
      const first = seen.get(k)
      if (first !== undefined) fail([...basePath, i, field], `must be unique (same as ${formatPath([...basePath, first, field])})`)
      else seen.set(k, i)
    })
  }

  unique(s.chains, (c) => c.name, 'name', ['chains'])
  unique(s.chains, (c) => c.chainId, 'chainId', ['chains'])
  unique(s.chains, (c) => c.eid, 'eid', ['chains'])

  s.chains.forEach((chain, ci) => {
    const at = (...p: Path): Path => ['chains', ci, ...p]
    const tokens = new Map(chain.tokens.map((t) => [t.symbol, t]))
    unique(chain.tokens, (t) => t.symbol, 'symbol', at('tokens'))

    chain.tokens.forEach((t, ti) => {
      if (fractionDigits(t.priceUsd) > 8) fail(at('tokens', ti, 'priceUsd'), 'must have at most 8 decimals (feeds are 1e8-scaled)')
      else if (toUsd1e8(t.priceUsd) === 0n) fail(at('tokens', ti, 'priceUsd'), 'must be greater than 0')
    })

    const amountOk = (amount: string, sym: string, path: Path): boolean => {
      const token = tokens.get(sym)
      if (!token) return false
      if (fractionDigits(amount) > token.decimals) {
        fail(path, `must have at most ${token.decimals} decimals (${sym} has ${token.decimals})`)
        return false
      }
      return true
    }
    const knownToken = (sym: string, path: Path): boolean => {
      if (tokens.has(sym)) return true
      fail(path, `unknown token symbol "${sym}" (chain "${chain.name}" lists ${[...tokens.keys()].join(', ')})`)
      return false
    }

    // Morpho markets
    const markets = chain.morpho?.markets ?? []
    const marketByName = new Map<string, (typeof markets)[number]>()
    markets.forEach((m, mi) => {
      const name = morphoMarketName(m)
      if (marketByName.has(name)) fail(at('morpho', 'markets', mi, 'name'), `must be unique (market "${name}" is listed twice)`)
      marketByName.set(name, m)
      const okLoan = knownToken(m.loan, at('morpho', 'markets', mi, 'loan'))
      const okColl = knownToken(m.collateral, at('morpho', 'markets', mi, 'collateral'))
      if (okLoan && okColl && m.loan === m.collateral) fail(at('morpho', 'markets', mi, 'collateral'), 'must differ from the loan token')
      // MorphoFeedOracle scales by 10^(36 + loanDecimals − collateralDecimals) and refuses exponents above 60.
      if (okLoan && okColl && tokens.get(m.loan)!.decimals - tokens.get(m.collateral)!.decimals > 24)
        fail(at('morpho', 'markets', mi, 'loan'), 'must have at most 24 more decimals than the collateral token (oracle scale 10^60 at most)')
      if (fractionDigits(m.lltv) > 18) fail(at('morpho', 'markets', mi, 'lltv'), 'must have at most 18 decimals (WAD)')
      else {
        const lltv = toWad(m.lltv)
        if (lltv === 0n || lltv >= WAD) fail(at('morpho', 'markets', mi, 'lltv'), 'must be above 0 and below 1 (Morpho enableLltv requires lltv < WAD)')
      }
      if (okLoan) amountOk(m.supply, m.loan, at('morpho', 'markets', mi, 'supply'))
    })

    // Aave reserves: mirrors ReserveConfiguration / PoolConfigurator.configureReserveAsCollateral checks.
    const reserves = chain.aave?.reserves ?? []
    const reserveBySymbol = new Map(reserves.map((r) => [r.symbol, r]))
    unique(reserves, (r) => r.symbol, 'symbol', at('aave', 'reserves'))
    reserves.forEach((r, ri) => {
      const p = (f: string) => at('aave', 'reserves', ri, f)
      if (!knownToken(r.symbol, p('symbol'))) return
      amountOk(r.supply, r.symbol, p('supply'))
      if (r.ltvBps > r.liquidationThresholdBps) fail(p('ltvBps'), 'must not exceed liquidationThresholdBps')
      if (r.liquidationThresholdBps !== 0) {
        if (r.liquidationBonusBps <= 10_000) fail(p('liquidationBonusBps'), 'must be above 10000 (the bonus includes the principal, e.g. 10500 = 5%)')
        // percentMul(liquidationThreshold, liquidationBonus) <= PERCENTAGE_FACTOR
        else if ((BigInt(r.liquidationThresholdBps) * BigInt(r.liquidationBonusBps) + 5000n) / PERCENTAGE_FACTOR > PERCENTAGE_FACTOR)
          fail(p('liquidationBonusBps'), 'liquidationThresholdBps × liquidationBonusBps must not exceed 100% (Aave: the bonus must be coverable)')
      }
    })

    // Uniswap V2 pairs
    const pairs = chain.uniswapV2?.pairs ?? []
    const pairNames = new Set<string>()
    const pairKeys = new Map<string, number>()
    pairs.forEach((pr, pi) => {
      const p = (...f: Path) => at('uniswapV2', 'pairs', pi, ...f)
      const name = uniswapV2PairName(pr)
      if (pairNames.has(name)) fail(p('name'), `must be unique (pair "${name}" is listed twice)`)
      pairNames.add(name)
      const ok0 = knownToken(pr.tokens[0], p('tokens', 0))
      const ok1 = knownToken(pr.tokens[1], p('tokens', 1))
      if (!ok0 || !ok1) return
      if (pr.tokens[0] === pr.tokens[1]) return fail(p('tokens', 1), 'must differ from tokens[0]')
      const key = [...pr.tokens].sort().join('|')
      if (pairKeys.has(key)) fail(p('tokens'), `must be unique: the factory holds one pair per token couple (same as ${formatPath(at('uniswapV2', 'pairs', pairKeys.get(key)!))})`)
      else pairKeys.set(key, pi)
      pr.reserves.forEach((amt, k) => {
        if (!amountOk(amt, pr.tokens[k], p('reserves', k))) return
        // UniswapV2Pair.mint requires sqrt(r0*r1) > MINIMUM_LIQUIDITY (1000).
        if (toUnits(amt, tokens.get(pr.tokens[k])!.decimals) === 0n) fail(p('reserves', k), 'must be greater than 0')
      })
      const r0 = toUnits(pr.reserves[0], tokens.get(pr.tokens[0])!.decimals)
      const r1 = toUnits(pr.reserves[1], tokens.get(pr.tokens[1])!.decimals)
      if (r0 > 0n && r1 > 0n && r0 * r1 <= 1_000_000n) fail(p('reserves'), 'must give more than MINIMUM_LIQUIDITY (sqrt(r0·r1) > 1000 base units)')
    })

    // Borrowers and positions
    unique(chain.borrowers, (b) => b.name, 'name', at('borrowers'))
    const marketBorrowed = new Map<string, bigint>()
    const reserveBorrowed = new Map<string, bigint>()
    chain.borrowers.forEach((b, bi) => {
      b.positions.forEach((pos, pi) => {
        const p = (...f: Path) => at('borrowers', bi, 'positions', pi, ...f)
        if (pos.protocol === 'morpho') {
          const m = marketByName.get(pos.market)
          if (!m) return fail(p('market'), `unknown Morpho market "${pos.market}" (chain "${chain.name}" has ${[...marketByName.keys()].join(', ') || 'none'})`)
          const loan = tokens.get(m.loan), coll = tokens.get(m.collateral)
          if (!loan || !coll) return
          if (!amountOk(pos.collateral, m.collateral, p('collateral')) || !amountOk(pos.borrow, m.loan, p('borrow'))) return
          if (fractionDigits(m.lltv) > 18 || fractionDigits(loan.priceUsd) > 8 || fractionDigits(coll.priceUsd) > 8) return
          const collateral = toUnits(pos.collateral, coll.decimals)
          const borrow = toUnits(pos.borrow, loan.decimals)
          const price = morphoOraclePrice(toUsd1e8(coll.priceUsd), coll.decimals, toUsd1e8(loan.priceUsd), loan.decimals)
          // Morpho `_isHealthy`: maxBorrow = wMulDown(mulDivDown(collateral, price, ORACLE_PRICE_SCALE), lltv); keep 1 wei for share rounding.
          const maxBorrow = (((collateral * price) / ORACLE_PRICE_SCALE) * toWad(m.lltv)) / WAD
          if (borrow > 0n && borrow + 1n > maxBorrow)
            fail(p('borrow'), `is above the LLTV at the initial prices: at most ${formatUnits(maxBorrow > 0n ? maxBorrow - 1n : 0n, loan.decimals)} ${m.loan} against ${pos.collateral} ${m.collateral} (lltv ${m.lltv})`)
          const name = pos.market
          marketBorrowed.set(name, (marketBorrowed.get(name) ?? 0n) + borrow)
        } else {
          let collateralBase = 0n, weightedLtv = 0n, debtBase = 0n
          let ok = true
          for (const [sym, amt] of Object.entries(pos.collateral)) {
            const r = reserveBySymbol.get(sym)
            if (!r) { fail(p('collateral', sym), `unknown Aave reserve "${sym}" (chain "${chain.name}" has ${[...reserveBySymbol.keys()].join(', ') || 'none'})`); ok = false; continue }
            if (!amountOk(amt, sym, p('collateral', sym))) { ok = false; continue }
            const t = tokens.get(sym)!
            if (fractionDigits(t.priceUsd) > 8) { ok = false; continue }
            const v = (toUnits(amt, t.decimals) * toUsd1e8(t.priceUsd)) / 10n ** BigInt(t.decimals)
            collateralBase += v
            weightedLtv += v * BigInt(r.ltvBps)
          }
          for (const [sym, amt] of Object.entries(pos.borrow)) {
            const r = reserveBySymbol.get(sym)
            if (!r) { fail(p('borrow', sym), `unknown Aave reserve "${sym}" (chain "${chain.name}" has ${[...reserveBySymbol.keys()].join(', ') || 'none'})`); ok = false; continue }
            if (!r.borrowingEnabled) { fail(p('borrow', sym), `reserve "${sym}" has borrowingEnabled: false`); ok = false; continue }
            if (!amountOk(amt, sym, p('borrow', sym))) { ok = false; continue }
            const t = tokens.get(sym)!
            if (fractionDigits(t.priceUsd) > 8) { ok = false; continue }
            const units = toUnits(amt, t.decimals)
            // Aave rounds debt value up when checking the borrow.
            debtBase += (units * toUsd1e8(t.priceUsd) + 10n ** BigInt(t.decimals) - 1n) / 10n ** BigInt(t.decimals)
            reserveBorrowed.set(sym, (reserveBorrowed.get(sym) ?? 0n) + units)
          }
          if (!ok || debtBase === 0n) return
          // ValidationLogic.validateBorrow: (debt).percentDiv(avgLtv) <= collateral, avgLtv = Σ value·ltv / Σ value.
          const avgLtv = collateralBase === 0n ? 0n : weightedLtv / collateralBase
          const needed = avgLtv === 0n ? -1n : (debtBase * PERCENTAGE_FACTOR + avgLtv / 2n) / avgLtv
          if (needed < 0n || needed + 1n > collateralBase)
            fail(p('borrow'), `is above the LTV at the initial prices: debt $${formatUnits(debtBase, 8)} needs collateral of $${avgLtv === 0n ? '∞' : formatUnits(needed, 8)} at LTV ${avgLtv} bps, collateral is $${formatUnits(collateralBase, 8)}`)
        }
      })
    })
    // Liquidity must cover what the borrowers take.
    for (const [name, borrowed] of marketBorrowed) {
      const m = marketByName.get(name)!
      const mi = markets.indexOf(m)
      const supply = toUnits(m.supply, tokens.get(m.loan)!.decimals)
      if (borrowed > supply) fail(at('morpho', 'markets', mi, 'supply'), `must cover the borrowers' total borrow of ${formatUnits(borrowed, tokens.get(m.loan)!.decimals)} ${m.loan}`)
    }
    for (const [sym, borrowed] of reserveBorrowed) {
      const r = reserveBySymbol.get(sym)!
      const ri = reserves.indexOf(r)
      const supply = toUnits(r.supply, tokens.get(sym)!.decimals)
      if (borrowed > supply) fail(at('aave', 'reserves', ri, 'supply'), `must cover the borrowers' total borrow of ${formatUnits(borrowed, tokens.get(sym)!.decimals)} ${sym}`)
    }
  })

  // Network
  if (s.network.hub !== undefined && !s.chains.some((c) => c.name === s.network.hub)) {
    fail(['network', 'hub'], `unknown chain "${s.network.hub}" (scenario has ${s.chains.map((c) => c.name).join(', ')})`)
  }
  if (fractionDigits(s.network.spokeEth) > 18) fail(['network', 'spokeEth'], 'must have at most 18 decimals')
  if (fractionDigits(s.network.floatUsd) > 8) fail(['network', 'floatUsd'], 'must have at most 8 decimals')

  // Price path
  let lastAt = -Infinity
  const chainByName = new Map(s.chains.map((c) => [c.name, c]))
  s.pricePath.forEach((step, i) => {
    const p = (f: string): Path => ['pricePath', i, f]
    if (step.atSeconds < lastAt) fail(p('atSeconds'), `must not be earlier than the previous step (${lastAt} s)`)
    lastAt = Math.max(lastAt, step.atSeconds)
    if (fractionDigits(step.priceUsd) > 8) fail(p('priceUsd'), 'must have at most 8 decimals (feeds are 1e8-scaled)')
    else if (toUsd1e8(step.priceUsd) === 0n) fail(p('priceUsd'), 'must be greater than 0')
    if (step.chain !== undefined) {
      const c = chainByName.get(step.chain)
      if (!c) fail(p('chain'), `unknown chain "${step.chain}" (scenario has ${[...chainByName.keys()].join(', ')})`)
      else if (!c.tokens.some((t) => t.symbol === step.symbol)) fail(p('symbol'), `unknown token symbol "${step.symbol}" on chain "${step.chain}"`)
    } else if (!s.chains.some((c) => c.tokens.some((t) => t.symbol === step.symbol))) {
      fail(p('symbol'), `unknown token symbol "${step.symbol}" (no chain lists it)`)
    }
  })
}

function formatUnits(v: bigint, decimals: number): string {
  const neg = v < 0n
  const abs = neg ? -v : v
  const base = 10n ** BigInt(decimals)
  const int = abs / base
  const frac = (abs % base).toString().padStart(decimals, '0').replace(/0+$/, '')
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`
}

/**
 * The Morpho oracle price (1e36-scaled: loan-token base units per collateral
 * base unit, times 1e36) that MorphoFeedOracle derives from two USD feeds of
 * the same scale: collateralUsd / loanUsd · 10^(36 + loanDecimals − collateralDecimals).
 */
export function morphoOraclePrice(collateralUsd: bigint, collateralDecimals: number, loanUsd: bigint, loanDecimals: number): bigint {
  const exp = 36 + loanDecimals - collateralDecimals
  return exp >= 0
    ? (collateralUsd * 10n ** BigInt(exp)) / loanUsd
    : collateralUsd / (loanUsd * 10n ** BigInt(-exp))
}

/** The scenario schema (zod), with every cross-field rule. */
export const scenarioSchema = baseScenarioSchema.superRefine(crossCheck)

/** A validated scenario (decimal strings normalised, defaults filled in). */
export type Scenario = z.output<typeof scenarioSchema>
/** What a scenario file or object may hold before validation (defaults optional, numbers allowed for decimals). */
export type ScenarioInput = z.input<typeof scenarioSchema>
export type ScenarioChain = Scenario['chains'][number]
export type ScenarioToken = ScenarioChain['tokens'][number]
export type ScenarioMorphoMarket = NonNullable<ScenarioChain['morpho']>['markets'][number]
export type ScenarioAaveReserve = NonNullable<ScenarioChain['aave']>['reserves'][number]
export type ScenarioUniswapV2Pair = NonNullable<ScenarioChain['uniswapV2']>['pairs'][number]
export type ScenarioBorrower = ScenarioChain['borrowers'][number]
export type ScenarioPosition = ScenarioBorrower['positions'][number]
export type PriceStep = Scenario['pricePath'][number]
export type ScenarioNetwork = Scenario['network']

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** One broken rule: the field path (e.g. `chains[1].eid`) and the rule. */
export type ScenarioIssue = { path: string; message: string }

/** A scenario that breaks the schema or a cross-field rule. `issues` lists every one. */
export class InvalidScenarioError extends BaseError {
  override name = 'InvalidScenarioError'
  readonly issues: ScenarioIssue[]
  readonly source?: string
  constructor(issues: ScenarioIssue[], source?: string) {
    const first = issues[0]
    super(`Invalid scenario${source ? ` ${source}` : ''}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'unknown error'}`, {
      metaMessages: [
        ...issues.slice(1, 20).map((i) => `${i.path || '(root)'}: ${i.message}`),
        ...(issues.length > 20 ? [`... and ${issues.length - 20} more`] : []),
        'The scenario schema is documented in docs/scenario.md.',
      ],
    })
    this.issues = issues
    this.source = source
  }
}

/** A scenario file that cannot be read or is not YAML/JSON. */
export class ScenarioFileError extends BaseError {
  override name = 'ScenarioFileError'
  readonly path: string
  constructor(path: string, cause: unknown, what: string) {
    super(`Cannot ${what} scenario file ${path}.`, {
      cause,
      metaMessages: ['Give the path of a YAML (.yaml/.yml) or JSON (.json) scenario; see docs/scenario.md.'],
    })
    this.path = path
  }
}

/** Formats a zod path as `chains[1].tokens[0].symbol`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`
    else if (typeof k === 'string' && /^[A-Za-z_$][\w$]*$/.test(k)) out += out ? `.${k}` : k
    else out += `[${JSON.stringify(String(k))}]`
  }
  return out
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[k]
  }
  return v
}

function toIssues(error: z.ZodError, input: unknown): ScenarioIssue[] {
  const issues: ScenarioIssue[] = []
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const key of i.keys) issues.push({ path: formatPath([...i.path, key]), message: 'unknown field' })
    } else if (i.code === 'invalid_type' && valueAt(input, i.path) === undefined) {
      issues.push({ path: formatPath(i.path), message: 'is required' })
    } else if (i.code === 'invalid_union' && 'note' in i && i.note === 'No matching discriminator') {
      issues.push({ path: formatPath(i.path), message: 'must be "morpho" or "aave"' })
    } else {
      issues.push({ path: formatPath(i.path), message: i.message })
    }
  }
  return issues
}

/**
 * Validates a scenario object.
 *
 * @throws InvalidScenarioError listing every broken rule, each with its field path.
 */
export function parseScenario(input: unknown, source?: string): Scenario {
  const r = scenarioSchema.safeParse(input)
  if (!r.success) throw new InvalidScenarioError(toIssues(r.error, input), source)
  return r.data
}

/**
 * Parses scenario text: JSON when `format` is 'json' (or the text starts with
 * `{`), YAML otherwise.
 *
 * @throws ScenarioFileError on a syntax error, InvalidScenarioError on a broken rule.
 */
export function parseScenarioText(text: string, format?: 'json' | 'yaml', source = '(text)'): Scenario {
  let data: unknown
  const fmt = format ?? (text.trimStart().startsWith('{') ? 'json' : 'yaml')
  try {
    data = fmt === 'json' ? JSON.parse(text) : parseYaml(text, { merge: true })
  } catch (err) {
    throw new ScenarioFileError(source, err, `parse ${fmt.toUpperCase()} in`)
  }
  return parseScenario(data, source)
}

/**
 * Reads and validates a scenario file (`.json` as JSON, anything else as YAML).
 *
 * @throws ScenarioFileError if it cannot be read or parsed, InvalidScenarioError on a broken rule.
 */
export function loadScenario(path: string): Scenario {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ScenarioFileError(path, err, 'read')
  }
  return parseScenarioText(text, extname(path).toLowerCase() === '.json' ? 'json' : 'yaml', path)
}
