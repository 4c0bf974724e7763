/**
 * QBFT consensus (Moniz 2020, "The Istanbul BFT Consensus Algorithm") as a pure state
 * machine; see docs/consensus.md. Entry point: {@link createQbft}.
 */
export * from './types.js'
export {
  DEFAULT_MAX_ROUND_TIMEOUT_MS,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_ROUND_TIMEOUT_BASE_MS,
  MAX_JUSTIFICATION_ENTRIES,
  MAX_ROUND,
  MAX_VALIDATORS,
  PACKET_OVERHEAD_BYTES,
  ZERO_DIGEST,
  defaultQbftOptions,
} from './constants.js'
export { QbftConfigError, QbftDecodeError, QbftEncodeError, QbftStartError } from './errors.js'
export { createValidatorSet, leaderOf, maxFaulty, quorumSize, type ValidatorSet } from './validators.js'
export {
  QBFT_MESSAGE_TYPEHASH,
  checkMessageFields,
  consensusProtoTypes,
  decodePacket,
  encodePacket,
  makeMessage,
  makeRoundChange,
  messageKey,
  qbftMessageDigest,
  qbftMessageStructHash,
  qbftMessageTypedData,
  qbftTypes,
  recoverQbftSigner,
  signQbftMessage,
  verifyQbftSignature,
  type DecodeLimits,
} from './messages.js'
export { verifyDecision, type DecisionCheck } from './justification.js'
export { roundTimeoutMs } from './round-change.js'
export { createKeySign, keccakValueDigest } from './keys.js'
export { createQbft } from './qbft.js'
