/**
 * Size limits of everything liqnet sends on the wire (see docs/wire.md).
 * A message over its topic's limit is rejected (REJECT, `OVERSIZED`) before
 * any signature work; the gossipsub transport drops anything larger than
 * {@link MAX_GOSSIP_MESSAGE_BYTES} without decoding it.
 */

/** Most accounts one HealthSnapshot part may carry; publishers split larger batches into parts. */
export const MAX_ACCOUNTS_PER_SNAPSHOT = 1000
/** Most parts one market's snapshot at one block may be split into. */
export const MAX_SNAPSHOT_PARTS = 64
/** Most points of one LiquiditySnapshot depth curve (both directions together). */
export const MAX_DEPTH_POINTS = 32
/** Largest 256-bit amount encoding, in bytes. */
export const MAX_AMOUNT_BYTES = 32
/** Most reserves of one Aave V3 pool a HealthSnapshot carries (Aave V3 allows 128), and most balances per account. */
export const MAX_AAVE_RESERVES = 128

/**
 * Worst-case encoded Morpho AccountHealth: borrower 22 + five 34-byte amounts (with borrow shares)
 * + bool 2 + 3 bytes of field tag and length = 197 bytes; 1000 of them plus header, market state
 * and envelope fit in 256 KiB. Aave accounts carry per-reserve balances (up to 76 bytes each):
 * publishers split a market into parts by size as well as by count ({@link MAX_HEALTH_PAYLOAD_BYTES}).
 */
export const MAX_HEALTH_MESSAGE_BYTES = 256 * 1024
/** Budget of one HealthSnapshot payload: the topic limit less the envelope (kind, signer, signature, tags). */
export const MAX_HEALTH_PAYLOAD_BYTES = MAX_HEALTH_MESSAGE_BYTES - 128
/** Worst-case depth point 79 bytes × 32 + header and envelope fit in 4 KiB. */
export const MAX_LIQUIDITY_MESSAGE_BYTES = 4 * 1024
/** Transport-level cap handed to gossipsub (`maxInboundDataLength`): the largest topic limit. */
export const MAX_GOSSIP_MESSAGE_BYTES = MAX_HEALTH_MESSAGE_BYTES
