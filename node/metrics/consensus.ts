/**
 * Prometheus metrics of the consensus node (prom-client): the height and round being run,
 * decisions, round changes, messages by outcome, rejections by reason, refusals of signing
 * protection, and the time from a proposal to a certified plan. Labels are codes, never free text.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export type ConsensusMetrics = ReturnType<typeof createConsensusMetrics>

export function createConsensusMetrics(register: Registry) {
  const registers = [register]
  return {
    /** The QBFT height being run (the next plan sequence number when idle). */
    height: new Gauge({ name: 'liqnet_consensus_height', help: 'QBFT height being run (plan sequence number)', registers }),
    /** The current round of the running height. */
    round: new Gauge({ name: 'liqnet_consensus_round', help: 'Current QBFT round of the running height', registers }),
    /** Heights decided, by how: `consensus` (this node took part) or `catchup` (adopted from a DECIDED certificate). */
    decisions: new Counter({ name: 'liqnet_consensus_decisions_total', help: 'Heights decided', labelNames: ['source'] as const, registers }),
    /** Heights decided with nothing to liquidate are not run: counted as `empty` when the leader had no value. */
    emptyHeights: new Counter({ name: 'liqnet_consensus_empty_heights_total', help: 'Heights started on the timer that ended without a value to propose', registers }),
    /** Round changes, by cause (timeout, f+1, proposal, decided). */
    roundChanges: new Counter({ name: 'liqnet_consensus_round_changes_total', help: 'QBFT round changes, by cause', labelNames: ['cause'] as const, registers }),
    /** Inbound packets by type and outcome (accepted | buffered | ignored | rejected). */
    messages: new Counter({ name: 'liqnet_consensus_messages_total', help: 'Inbound consensus packets, by packet type and outcome', labelNames: ['type', 'outcome'] as const, registers }),
    /** Packets not used, by outcome (ignored | rejected) and reason code (OLD_HEIGHT, BAD_SIGNATURE, QUEUE_FULL, ...). */
    rejections: new Counter({ name: 'liqnet_consensus_rejections_total', help: 'Consensus packets ignored or rejected, by outcome and reason', labelNames: ['outcome', 'reason'] as const, registers }),
    /** Signatures refused by signing protection, by code (EQUIVOCATION, SEAL_CONFLICT, STALE, TOO_FAR_AHEAD, ...). */
    protectionRefusals: new Counter({ name: 'liqnet_consensus_protection_refusals_total', help: 'Signatures refused by signing protection, by code', labelNames: ['code'] as const, registers }),
    /** Own packets published, by type. */
    published: new Counter({ name: 'liqnet_consensus_published_total', help: 'Own consensus packets published, by packet type', labelNames: ['type'] as const, registers }),
    publishErrors: new Counter({ name: 'liqnet_consensus_publish_errors_total', help: 'Own consensus packets that could not be published', registers }),
    queueLength: new Gauge({ name: 'liqnet_consensus_queue_length', help: 'Inbound consensus packets waiting', registers }),
    queueDropped: new Counter({ name: 'liqnet_consensus_queue_dropped_total', help: 'Inbound consensus packets dropped by the full queue', registers }),
    /** Time from the PROPOSAL of the deciding round to the decision (a quorum of commit seals), seconds. */
    certifySeconds: new Histogram({
      name: 'liqnet_consensus_certify_seconds',
      help: 'Time from the proposal of the deciding round to the certified plan',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    /** Time to validate a proposed value (plan recomputation), seconds. */
    validateSeconds: new Histogram({ name: 'liqnet_consensus_validate_seconds', help: 'Time to validate a proposed value', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers }),
  }
}
