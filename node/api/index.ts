export { startApiServer, defaultApiServerOptions, type ApiServer, type ApiServerOptions, type SnapshotEvents } from './server.js'
export {
  FeedReader,
  agreeingViews,
  defaultRiskOptions,
  jsonSafe,
  planItem,
  protocolNames,
  venueNames,
  RISK_MODEL,
  VOLATILITY_ESTIMATOR,
  type AccountItem,
  type AccountsQuery,
  type CollateralResolver,
  type LiquidationRisk,
  type LiquidityItem,
  type LiquidityQuery,
  type PlanItem,
  type ProtocolName,
  type RiskOptions,
  type VenueName,
} from './feed.js'
export { InMemoryPlanSource, legStatuses, type LegSettlement, type LegStatus, type PlanRecord, type PlanSource } from './plans.js'
export { LevelPriceHistory, type LevelPriceHistoryOptions, type PriceHistory, type PricePoint } from './prices.js'
export { distanceToLiquidationBps, erfc, liquidationProbability, normalCdf, realizedVolatility, SECONDS_PER_YEAR, type PriceSample, type VolatilityEstimate } from './risk.js'
export {
  FEED_ITEM_TYPEHASH,
  FeedSigner,
  canonicalJson,
  feedContentHash,
  feedItemDigest,
  feedItemTypedData,
  feedItemTypes,
  feedKindCode,
  verifyFeedItem,
  type FeedKind,
  type FeedProof,
  type FeedVerification,
  type SignedFeedItem,
} from './signing.js'
export { STREAM_CLOSE, StreamHub, matches, type StreamSocket, type Subscriber } from './stream.js'
export { feedKinds, type StreamFilter } from './query.js'
