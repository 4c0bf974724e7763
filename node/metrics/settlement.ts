/**
 * Prometheus metrics of settlement (prom-client): the transmitter's submissions and transactions, fee bumps,
 * the tracker's legs by state, and RPC errors. Names read `liqnet_settlement_<what>_<unit|total>`; labels are
 * codes, never free text.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export type SettlementMetrics = ReturnType<typeof createSettlementMetrics>

export function createSettlementMetrics(register: Registry) {
  const registers = [register]
  return {
    /** Plans this node handled, by outcome: landed (its transaction), skipped (already landed), failed. */
    submissions: new Counter({ name: 'liqnet_settlement_submissions_total', help: 'Certified plans handled by the transmitter, by outcome', labelNames: ['outcome'] as const, registers }),
    /** Transactions broadcast (first attempts; replacements are counted by fee_bumps). */
    txSent: new Counter({ name: 'liqnet_settlement_tx_sent_total', help: 'Settlement transactions broadcast (first attempts)', registers }),
    /** Replacements on the same nonce, by kind: bump (same call, higher fees) or cancel (self-transfer). */
    feeBumps: new Counter({ name: 'liqnet_settlement_fee_bumps_total', help: 'Transactions replaced on the same nonce with higher fees, by kind', labelNames: ['kind'] as const, registers }),
    /** Time from a certified plan handed to the transmitter to its landing (any node's), seconds. */
    landingSeconds: new Histogram({ name: 'liqnet_settlement_landing_seconds', help: 'Time from a certified plan to its submitPlan landing on the hub', buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120], registers }),
    /** Legs the tracker follows, by state (pending | dispatched | delivered | executed | failed). */
    legs: new Gauge({ name: 'liqnet_settlement_legs', help: 'Tracked settlement legs, by state', labelNames: ['state'] as const, registers }),
    /** Time from a leg's dispatch to its receipt on the hub, seconds. */
    legSettleSeconds: new Histogram({ name: 'liqnet_settlement_leg_settle_seconds', help: 'Time from a leg dispatch to its receipt on the hub', buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300], registers }),
    /** RPC failures by operation code (broadcast, receipt, poll, quote, simulate). */
    rpcErrors: new Counter({ name: 'liqnet_settlement_rpc_errors_total', help: 'RPC failures in settlement, by operation', labelNames: ['op'] as const, registers }),
  }
}
