/**
 * The deterministic liquidation planner: `plan(inputs, params) → Plan` and `planHash(plan)`.
 * Pure, bigint only; see `plan.ts` for the steps and the sources each part mirrors.
 */
export * from './types.js'
export * from './errors.js'
export { plan, PLAN_VERSION } from './plan.js'
export { planHash, encodePlan } from './hash.js'
export { defaultPlanParams } from './defaults.js'
export { splitAcrossPools, totalOut, amountOut, type SplitPool } from './split.js'
export { almgrenChrissTrades, planTrajectory } from './schedule.js'
export { auctionTerms, auctionPriceAt, NO_AUCTION } from './auction.js'
export { canonicalize, validateParams } from './validate.js'
