/**
 * The consensus node: QBFT (protocol/consensus) over gossipsub, the operator key behind
 * signing protection, commit seals over settlement plans, and persisted decisions.
 * See docs/consensus.md and docs/signing-protection.md.
 */
export { createConsensusNode, type ConsensusNode, type ConsensusNodeOptions } from './node.js'
export {
  ConsensusService,
  ConsensusServiceError,
  defaultConsensusServiceOptions,
  realTimers,
  type CertifiedPlan,
  type ConsensusServiceEvents,
  type ConsensusServiceInit,
  type ConsensusServiceOptions,
  type ConsensusValues,
  type HeightStartCause,
} from './service.js'
export {
  CONSENSUS_TOPIC,
  ConsensusTransport,
  defaultConsensusQueueOptions,
  outcomeAction,
  rejectAction,
  type ConsensusDropReason,
  type ConsensusTransportEvents,
  type ConsensusTransportInit,
  type InboundPacketEvent,
  type PacketHandler,
  type TransportReason,
} from './transport.js'
export {
  INTERCHANGE_FORMAT,
  INTERCHANGE_FORMAT_VERSION,
  ProtectedKind,
  RefusalCode,
  SigningProtection,
  SigningProtectionImportError,
  SigningProtectionMismatchError,
  SigningProtectionOpenError,
  SigningRefusedError,
  defaultSigningProtectionOptions,
  protectedKindName,
  type ImportSummary,
  type ProtectedSignature,
  type SigningProtectionInterchange,
  type SigningProtectionOptions,
} from './protection.js'
export { PlanSealer, SettlementPlanHeightError, UnsealableValueError, createProtectedSign, type PlanSealerInit, type SettlementPlanSource } from './signer.js'
export { DecisionStore, DecisionStoreOpenError, type StoredDecision } from './decisions.js'
