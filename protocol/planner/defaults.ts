import type { PlanParams } from './types.js'

/**
 * Default planner parameters (set `deadlineBase` to the pinned block's timestamp).
 * - targetHealthFactor 1.05 (WAD); maxImpactBpsPerVenuePerRound 100 (1 %); maxLegs 256;
 * - legTtlSeconds 120; maxSlippageBps 300; minOutToleranceBps 50;
 * - urgencyWad 0.1 (Almgren–Chriss κτ per round); maxScheduleRounds 64;
 * - auction: +2 % start, −5 % floor, 600 s; cascadeGuardBps 10; crossChainVenues true.
 */
export const defaultPlanParams: PlanParams = Object.freeze({
  targetHealthFactor: 105n * 10n ** 16n,
  maxImpactBpsPerVenuePerRound: 100n,
  maxLegs: 256,
  deadlineBase: 0n,
  legTtlSeconds: 120n,
  maxSlippageBps: 300n,
  minOutToleranceBps: 50n,
  urgencyWad: 10n ** 17n,
  maxScheduleRounds: 64,
  auction: Object.freeze({ startPremiumBps: 200n, floorDiscountBps: 500n, durationSeconds: 600n }),
  oracleFollowsPools: [],
  cascadeGuardBps: 10n,
  crossChainVenues: true,
}) as PlanParams
