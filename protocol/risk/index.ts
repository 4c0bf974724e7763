/**
 * Liquidation risk math per protocol, each function mirroring the contract it cites:
 * Morpho Blue (`morpho.ts`), Aave V3 (`aave.ts`), Uniswap V2 venues (`uniswap-v2.ts`), shared fixed point (`math.ts`).
 * Pure and bigint-only: no I/O, no floating point.
 */
export * from './math.js'
export * from './morpho.js'
export * from './aave.js'
export * from './uniswap-v2.js'
