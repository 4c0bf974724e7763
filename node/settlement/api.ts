/**
 * The settlement tracker's view in the risk-feed API's terms (node/api/plans.ts `LegSettlement`): `pending` is
 * `planned`; `dispatched` and `delivered` are `dispatched` (the message is in flight or its receipt is);
 * `executed` and `failed` are kept; a failed leg's `reason` is its code (ACCOUNT_HEALTHY, SLIPPAGE, ...).
 */
import type { LegSettlement } from '../api/plans.js'
import type { LegStatusView } from './tracker.js'

/** Maps one tracked leg to the API's LegSettlement. */
export function toLegSettlement(leg: LegStatusView): LegSettlement {
  const status = leg.state === 'pending' ? 'planned' : leg.state === 'delivered' ? 'dispatched' : leg.state
  const txHash = leg.receiptTx ?? leg.deliveredTx ?? leg.dispatchTx
  return {
    seq: leg.seq,
    status,
    ...(leg.guid ? { guid: leg.guid } : {}),
    ...(txHash ? { txHash } : {}),
    ...(leg.state === 'failed' && leg.reasonCode ? { reason: leg.reasonCode } : {}),
    updatedAt: leg.updatedAt,
  }
}
