/**
 * Key prefixes (buckets) of the level store. The first byte of every key is its bucket.
 * Numbers are persisted: never renumber or reuse one; retire a bucket by commenting it out.
 */
export enum Bucket {
  /** Every accepted snapshot by (kind, chainId, scope, block, part, operator) → SnapshotRecord. Pruned by count per scope. */
  snapshotHistory = 1,
  /** Latest HealthSnapshot part per (operator, chainId, market, part) → SnapshotRecord. */
  latestHealth = 2,
  /** Each account's latest health per operator: (chainId, market, borrower, operator) → packed account. Pruned by age and count. */
  accountHealth = 3,
  /** Latest LiquiditySnapshot per (chainId, venue, pair, operator) → SnapshotRecord. Pruned by age. */
  liquidity = 4,
  /** Equivocation evidence: (operator, kind, chainId, scope, block, part, digest) → SnapshotRecord. Pruned by count. */
  evidence = 5,
  /** Operators caught equivocating: operator → FlaggedOperator. */
  flaggedOperator = 6,
  /** Collateral price history: (chainId u64, asset 20, block u64) → (timestamp u64, price). Bounded per asset. See node/api/prices.ts. */
  priceHistory = 7,
}

/** Bucket names for metric labels. */
export const bucketName: { [K in Bucket]: string } = {
  [Bucket.snapshotHistory]: 'snapshot_history',
  [Bucket.latestHealth]: 'latest_health',
  [Bucket.accountHealth]: 'account_health',
  [Bucket.liquidity]: 'liquidity',
  [Bucket.evidence]: 'evidence',
  [Bucket.flaggedOperator]: 'flagged_operator',
  [Bucket.priceHistory]: 'price_history',
}
