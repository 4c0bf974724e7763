import { BaseError } from '../../protocol/errors.js'

/** What gossipsub is told about a message (mirrors TopicValidatorResult). */
export enum GossipAction {
  /** Valid: store and forward. */
  ACCEPT = 'ACCEPT',
  /** Not forwarded, no penalty (late, duplicate, queue full, ...). */
  IGNORE = 'IGNORE',
  /** Invalid: not forwarded, the sending peer's score is lowered. */
  REJECT = 'REJECT',
}

/**
 * Validation error codes, in the order of the checks (see docs/wire.md). They are metric
 * labels: add codes, never rename or reuse them.
 */
export enum GossipErrorCode {
  // 1. decode
  MALFORMED = 'MALFORMED',
  NON_CANONICAL = 'NON_CANONICAL',
  INVALID_FIELD = 'INVALID_FIELD',
  WRONG_TOPIC = 'WRONG_TOPIC',
  // 2. size
  OVERSIZED = 'OVERSIZED',
  // 3. signer
  UNKNOWN_SIGNER = 'UNKNOWN_SIGNER',
  BAD_SIGNATURE = 'BAD_SIGNATURE',
  // 4. freshness
  STALE = 'STALE',
  FROM_FUTURE = 'FROM_FUTURE',
  // 5. block sanity
  BLOCK_AHEAD = 'BLOCK_AHEAD',
  BLOCK_BEHIND = 'BLOCK_BEHIND',
  // 6. dedupe
  DUPLICATE = 'DUPLICATE',
  // 7. equivocation
  EQUIVOCATION = 'EQUIVOCATION',
  EQUIVOCATION_KNOWN = 'EQUIVOCATION_KNOWN',
  // queueing
  QUEUE_FULL = 'QUEUE_FULL',
  // a bug of ours, not the peer's fault
  INTERNAL = 'INTERNAL',
}

/** The action each code maps to. Equivocation is ACCEPTed once so that every node receives the evidence. */
export const gossipErrorAction: { [K in GossipErrorCode]: GossipAction } = {
  [GossipErrorCode.MALFORMED]: GossipAction.REJECT,
  [GossipErrorCode.NON_CANONICAL]: GossipAction.REJECT,
  [GossipErrorCode.INVALID_FIELD]: GossipAction.REJECT,
  [GossipErrorCode.WRONG_TOPIC]: GossipAction.REJECT,
  [GossipErrorCode.OVERSIZED]: GossipAction.REJECT,
  [GossipErrorCode.UNKNOWN_SIGNER]: GossipAction.REJECT,
  [GossipErrorCode.BAD_SIGNATURE]: GossipAction.REJECT,
  [GossipErrorCode.STALE]: GossipAction.IGNORE,
  [GossipErrorCode.FROM_FUTURE]: GossipAction.IGNORE,
  [GossipErrorCode.BLOCK_AHEAD]: GossipAction.IGNORE,
  [GossipErrorCode.BLOCK_BEHIND]: GossipAction.IGNORE,
  [GossipErrorCode.DUPLICATE]: GossipAction.IGNORE,
  [GossipErrorCode.EQUIVOCATION]: GossipAction.ACCEPT,
  [GossipErrorCode.EQUIVOCATION_KNOWN]: GossipAction.IGNORE,
  [GossipErrorCode.QUEUE_FULL]: GossipAction.IGNORE,
  [GossipErrorCode.INTERNAL]: GossipAction.IGNORE,
}

export type GossipValidationErrorType = GossipValidationError
/** A gossip message failed validation: carries the code (metric label) and the action. */
export class GossipValidationError extends BaseError {
  override name = 'GossipValidationError'
  readonly code: GossipErrorCode
  readonly action: GossipAction
  constructor(code: GossipErrorCode, shortMessage: string, opts: { cause?: unknown; metaMessages?: string[] } = {}) {
    super(shortMessage, opts)
    this.code = code
    this.action = gossipErrorAction[code]
  }
}
