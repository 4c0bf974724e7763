/**
 * Dutch auction fallback: a leg whose best AMM execution breaks the slippage bound is sold by a descending-price
 * (Dutch) auction instead, as MakerDAO Liquidations 2.0 (`Clipper`, linear `StairstepExponentialDecrease`/`LinearDecrease`
 * abacus) and Euler's reverse Dutch auction do: the price starts above the oracle reference, falls linearly by
 * `decayPerSecond`, and never goes below the floor; the first bidder at the current price buys.
 *
 * Prices are 1e36-scaled quote base units per collateral base unit (Morpho's ORACLE_PRICE_SCALE).
 */
import type { AuctionTerms, PlanParams } from './types.js'

/** The terms of a leg that is not auctioned: all zero. */
export const NO_AUCTION: AuctionTerms = Object.freeze({
  amount: 0n,
  startPrice: 0n,
  decayPerSecond: 0n,
  floorPrice: 0n,
  startTime: 0n,
  endTime: 0n,
}) as AuctionTerms

/**
 * Auction terms for `amount` of collateral whose oracle reference price is `refPrice` (1e36-scaled):
 * start = ref·(1 + startPremiumBps), floor = ref·(1 − floorDiscountBps), decay = (start − floor) / duration per
 * second, from `deadlineBase` to `deadlineBase + durationSeconds`.
 */
export function auctionTerms(amount: bigint, refPrice: bigint, params: PlanParams): AuctionTerms {
  const startPrice = (refPrice * (10_000n + params.auction.startPremiumBps)) / 10_000n
  const floorPrice = (refPrice * (10_000n - params.auction.floorDiscountBps)) / 10_000n
  return {
    amount,
    startPrice,
    decayPerSecond: (startPrice - floorPrice) / params.auction.durationSeconds,
    floorPrice,
    startTime: params.deadlineBase,
    endTime: params.deadlineBase + params.auction.durationSeconds,
  }
}

/** The auction price at on-chain time `t` (seconds): start − decay·(t − startTime), never below the floor. */
export function auctionPriceAt(terms: AuctionTerms, t: bigint): bigint {
  if (t <= terms.startTime) return terms.startPrice
  const p = terms.startPrice - terms.decayPerSecond * (t - terms.startTime)
  return p > terms.floorPrice ? p : terms.floorPrice
}
