// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// The settlement plan and leg outcome types shared by the hub, the spokes and their messages.
// Re-exported by ILiquidationHub.sol; mirrored by protocol/settlement/plan.ts.

/// @notice One sale of seized collateral for the leg's debt token on a Uniswap V2 pair of the leg's chain.
/// @dev Mirrors `SwapStep` of protocol/settlement/plan.ts. Amounts in token base units.
struct SwapStep {
    /// @dev The Uniswap V2 pair; it must hold exactly the leg's collateral and debt tokens.
    address pool;
    /// @dev Collateral base units sold.
    uint256 amountIn;
    /// @dev Slippage bound: the least debt-token base units the sale may return.
    uint256 minAmountOut;
}

/// @notice One liquidation of a certified plan, executed by the hub (own EID) or by the spoke of `eid`.
/// @dev Mirrors `SettlementLeg` of protocol/settlement/plan.ts; field order is part of the plan digest: never reorder.
/// - Morpho Blue (`protocol` 1): `target` is Morpho, `marketId` the market id; exactly one of `seizedAssets`
///   (collateral base units) and `repaidShares` (borrow shares) is non-zero, as in `IMorpho.liquidate`.
/// - Aave V3 (`protocol` 2): `target` is the Pool, `marketId` is zero, `debtToCover` (debt base units) is
///   `liquidationCall`'s argument and the amount flash-borrowed.
struct Leg {
    uint32 seq;
    uint32 eid;
    uint8 protocol;
    address target;
    bytes32 marketId;
    address borrower;
    address collateralToken;
    address debtToken;
    uint256 seizedAssets;
    uint256 repaidShares;
    uint256 debtToCover;
    SwapStep[] swaps;
    /// @dev Unix seconds; the leg fails with `DeadlinePassed` when executed after it.
    uint64 deadline;
}

/// @notice A certified plan: QBFT height (the plan sequence number) and its legs, in strictly ascending `seq`.
/// @dev planDigest = keccak256(abi.encode(plan)); commit seals sign EIP-712 `CommitSeal(uint64 height,bytes32 planDigest)`.
struct SettlementPlan {
    uint64 height;
    Leg[] legs;
}

/// @notice Where a leg stands. Persisted and sent in receipts: never renumber.
enum LegStatus {
    /// @dev Unknown leg (no plan with this (height, seq)).
    None,
    /// @dev Sent to its spoke; no receipt yet.
    Dispatched,
    /// @dev The liquidation ran and the flash funding was repaid.
    Executed,
    /// @dev The leg was caught failing (healthy again, slippage bound, deadline, ...); nothing moved.
    Failed
}

/// @notice The outcome of one leg's execution (what a receipt carries).
struct LegResult {
    /// @dev Executed or Failed.
    LegStatus status;
    /// @dev Debt repaid to the lending protocol, debt base units (0 when failed).
    uint256 repaidAssets;
    /// @dev Collateral seized, collateral base units (0 when failed).
    uint256 seizedAssets;
    /// @dev Debt tokens left after repaying the flash funding, sent to the reserve (base units).
    uint256 proceeds;
    /// @dev Seized collateral the swaps did not sell, sent to the reserve (base units).
    uint256 collateralLeft;
    /// @dev Failed: the revert data of the failing call (custom error or Error(string)), at most 256 bytes.
    bytes reason;
}
