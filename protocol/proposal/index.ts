/**
 * Proposal values: what a QBFT proposal carries (planner inputs by reference at pinned blocks, the planner
 * parameters' digest, the plan hash and the settlement plan), the f+1 rule that turns signed snapshots into
 * planner inputs, and the leader's and followers' sides. Pure: no I/O, no clock.
 */
export * from './codec.js'
export * from './params.js'
export * from './select.js'
export * from './proposal.js'
