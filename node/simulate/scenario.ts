/**
 * Stress-simulator scenario files (`scenarios/sim/*.yaml`): schema (zod), loading and validation.
 * The format is documented in docs/simulate.md.
 */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { z } from 'zod'
import { BaseError } from '../../protocol/errors.js'

const asset = z.object({
  symbol: z.string().min(1).max(32),
  decimals: z.number().int().min(0).max(36),
  /** USD price at step 0. */
  priceUsd: z.number().positive(),
})

const borrowers = z.object({
  count: z.number().int().min(1).max(20_000),
  /** Debt per borrower, USD: log-normal with this median and sigma (of ln). */
  debtUsd: z.object({ median: z.number().positive(), sigma: z.number().min(0).max(3) }),
  /** Health factor at step 0, uniform in [min, max]. */
  healthFactor: z.object({ min: z.number().positive(), max: z.number().positive() }).refine((h) => h.max >= h.min, 'max must be ≥ min'),
})

const oracle = z.enum(['external', 'pools'])

const market = z.discriminatedUnion('protocol', [
  z.object({
    protocol: z.literal('morpho'),
    chainId: z.number().int().positive(),
    lltv: z.number().gt(0).lt(1),
    oracle,
    borrowers,
  }),
  z.object({
    protocol: z.literal('aave'),
    chainId: z.number().int().positive(),
    liquidationThresholdBps: z.number().int().min(1).max(10_000),
    liquidationBonusBps: z.number().int().min(10_000).max(20_000),
    liquidationProtocolFeeBps: z.number().int().min(0).max(10_000),
    oracle,
    borrowers,
  }),
])

/** The scenario schema. */
export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    seed: z.number().int().min(0),
    /** Number of rounds simulated. */
    steps: z.number().int().min(2).max(500),
    /** Seconds per round (on-chain time for deadlines and auctions). */
    roundSeconds: z.number().int().min(1).max(3600).default(12),
    collateral: asset,
    debt: asset,
    /** Fair (external) collateral price as a multiple of its step-0 price: keyframes [step, multiple], linear in between. */
    pricePath: z.array(z.tuple([z.number().int().min(0), z.number().positive()])).min(1),
    /** Constant-product pools of (collateral, debt), at the fair price at step 0. */
    pools: z.array(z.object({ chainId: z.number().int().positive(), depthUsd: z.number().positive() })).min(1),
    /** Share of each pool's price gap to the fair price that arbitrageurs close per round, 0..1. */
    arbitrageSpeed: z.number().min(0).max(1),
    markets: z.array(market).min(1),
    /** Dutch auction bidders buy at fair × (1 − marginBps) once the descending price reaches it. */
    auctionBidderMarginBps: z.number().int().min(0).max(5_000).default(50),
    /** Planner parameters (strategy c); the rest are the planner defaults. */
    planner: z
      .object({
        targetHealthFactor: z.number().gt(1).max(3).default(1.1),
        maxImpactBpsPerVenuePerRound: z.number().int().min(1).max(5_000).default(100),
        maxLegs: z.number().int().min(1).max(100_000).default(512),
        urgency: z.number().min(0).max(10).default(0.1),
        maxSlippageBps: z.number().int().min(1).max(10_000).default(300),
        cascadeGuardBps: z.number().int().min(0).max(1_000).default(10),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    for (let i = 1; i < s.pricePath.length; i++) {
      if (s.pricePath[i][0] <= s.pricePath[i - 1][0]) ctx.addIssue({ code: 'custom', path: ['pricePath', i], message: 'steps must increase' })
    }
    s.markets.forEach((m, i) => {
      if (!s.pools.some((p) => p.chainId === m.chainId) && m.oracle === 'pools') {
        ctx.addIssue({ code: 'custom', path: ['markets', i, 'oracle'], message: 'a pool-following oracle needs a pool on its chain' })
      }
    })
    if (s.collateral.symbol === s.debt.symbol) ctx.addIssue({ code: 'custom', path: ['debt', 'symbol'], message: 'must differ from the collateral' })
  })

export type Scenario = z.infer<typeof scenarioSchema>

/** The scenario file is unreadable or breaks the schema; `issues` name the fields. */
export class ScenarioError extends BaseError {
  override name = 'ScenarioError' as const
  constructor(file: string, issues: string[], cause?: unknown) {
    super(`Invalid simulator scenario ${file}.`, {
      cause,
      metaMessages: [...issues, 'See docs/simulate.md for the scenario format.'],
    })
  }
}

/** Parses and validates a scenario object. @throws ScenarioError naming each offending field. */
export function parseScenario(value: unknown, file = '<scenario>'): Scenario {
  const r = scenarioSchema.safeParse(value)
  if (!r.success) throw new ScenarioError(file, r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`))
  return r.data
}

/** Reads, parses (YAML) and validates a scenario file. @throws ScenarioError. */
export function loadScenario(file: string): Scenario {
  let raw: unknown
  try {
    raw = parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ScenarioError(file, [`cannot read or parse: ${(err as Error).message}`], err)
  }
  return parseScenario(raw, file)
}
