/**
 * Prometheus metrics of gossip, store and publishing (prom-client). One factory
 * returns a typed object; call sites use `metrics?.`. Names read
 * `liqnet_<subsystem>_<what>_<unit|total>`; labels are codes, never free text.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export type GossipMetrics = ReturnType<typeof createGossipMetrics>

export function createGossipMetrics(register: Registry) {
  const registers = [register]
  return {
    /** Messages handed to validation, by topic type and outcome (ACCEPT | IGNORE | REJECT). */
    messages: new Counter({ name: 'liqnet_gossip_messages_total', help: 'Gossip messages validated, by topic type and outcome', labelNames: ['type', 'outcome'] as const, registers }),
    /** Validation failures by topic type, outcome and error code. */
    validationErrors: new Counter({ name: 'liqnet_gossip_validation_errors_total', help: 'Gossip validation failures, by topic type, outcome and error code', labelNames: ['type', 'outcome', 'code'] as const, registers }),
    validationSeconds: new Histogram({ name: 'liqnet_gossip_validation_seconds', help: 'Time to validate one gossip message', labelNames: ['type'] as const, buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05], registers }),
    /** now − observedAt of accepted messages (same-clock loopback: propagation delay). */
    propagationSeconds: new Histogram({ name: 'liqnet_gossip_propagation_seconds', help: 'Delay between observation and acceptance of a snapshot', labelNames: ['type'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers }),
    queueLength: new Gauge({ name: 'liqnet_gossip_queue_length', help: 'Messages waiting for validation, by topic type', labelNames: ['type'] as const, registers }),
    queueDropped: new Counter({ name: 'liqnet_gossip_queue_dropped_total', help: 'Messages dropped by a full validation queue, by topic type', labelNames: ['type'] as const, registers }),
    accountsStored: new Counter({ name: 'liqnet_gossip_accounts_stored_total', help: 'Account health entries written to the store', registers }),
    equivocations: new Counter({ name: 'liqnet_gossip_equivocations_total', help: 'Equivocations detected (two snapshots of one operator for one chain, market and block)', registers }),
    published: new Counter({ name: 'liqnet_gossip_published_total', help: 'Own snapshots published, by topic type', labelNames: ['type'] as const, registers }),
    publishErrors: new Counter({ name: 'liqnet_gossip_publish_errors_total', help: 'Own snapshots that could not be published, by topic type and code', labelNames: ['type', 'code'] as const, registers }),
    peers: new Gauge({ name: 'liqnet_p2p_peers', help: 'Connected libp2p peers', registers }),
    storePruned: new Counter({ name: 'liqnet_store_pruned_total', help: 'Entries removed from the store by pruning, by bucket', labelNames: ['bucket'] as const, registers }),
  }
}
