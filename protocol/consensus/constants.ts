/**
 * Defaults and hard limits of the QBFT state machine (see docs/consensus.md).
 */
import type { QbftOptions } from './types.js'

/** Round 0's timer, ms; round r lasts `base * 2^r`. */
export const DEFAULT_ROUND_TIMEOUT_BASE_MS = 1000
/** Hard cap on one round's timer, ms (10 minutes). */
export const DEFAULT_MAX_ROUND_TIMEOUT_MS = 600_000
/** Largest value carried by a PROPOSAL or a ROUND-CHANGE, bytes (1 MiB). */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
/** Room for the signed message, the commit seal and two justification lists (≤ 2 × 256 × ~130 bytes). */
export const PACKET_OVERHEAD_BYTES = 80 * 1024
/**
 * Hard cap on the length of any justification list or decision certificate, whatever the
 * validator set (a list never needs more than n entries). Checked while decoding.
 */
export const MAX_JUSTIFICATION_ENTRIES = 256
/** Largest validator set supported (so that justifications stay under the cap). */
export const MAX_VALIDATORS = MAX_JUSTIFICATION_ENTRIES
/** Highest round number accepted at all (2^r overflows any sane timer long before). */
export const MAX_ROUND = 1_000_000

/** Defaults of {@link QbftOptions}; `maxBufferedPerHeight` is scaled to the validator count at creation. */
export const defaultQbftOptions: QbftOptions = {
  roundTimeoutBaseMs: DEFAULT_ROUND_TIMEOUT_BASE_MS,
  maxRoundTimeoutMs: DEFAULT_MAX_ROUND_TIMEOUT_MS,
  maxFutureHeights: 2n,
  maxFutureRounds: 16,
  maxBufferedPerHeight: 0,
  maxBufferedPerSigner: 32,
  maxValueBytes: DEFAULT_MAX_VALUE_BYTES,
  maxPacketBytes: DEFAULT_MAX_VALUE_BYTES + PACKET_OVERHEAD_BYTES,
  keepDecisions: 4,
}

/** The all-zero 32-byte digest: "none" (⊥) in ROUND-CHANGE and in PREPARE/COMMIT's prepared fields. */
export const ZERO_DIGEST = `0x${'00'.repeat(32)}` as const
