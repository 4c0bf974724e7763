/**
 * Settlement on the node's side: the transmitter (staggered, OCR-style submission of certified plans to the hub),
 * the per-account transaction queue (nonces, fee bumps on the same nonce), the outbox in level (no lost and no
 * double submission across restarts), and the tracker (every leg to its receipt, queried as a PlanStatusSource).
 */
export * from './api.js'
export * from './outbox.js'
export * from './tracker.js'
export * from './transmitter.js'
export * from './tx.js'
