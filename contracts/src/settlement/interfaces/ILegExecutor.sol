// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Leg, LegResult} from "./SettlementTypes.sol";

/// @title ILegExecutor
/// @notice Leg execution shared by the hub (legs of its own chain) and the spokes: a Morpho Blue `liquidate` funded in
/// `onMorphoLiquidate`, or an Aave V3 `liquidationCall` funded by `flashLoanSimple`, each by selling the seized collateral
/// on the leg's Uniswap V2 pairs with the leg's slippage bounds. A failing leg is caught and reported, never retried
/// here; what is left after repayment (debt tokens and unsold collateral) goes to the reserve.
interface ILegExecutor {
    /// @notice Leg (height, seq) ran on this chain (EID `eid`) with `result` (Executed or Failed with a reason).
    event LegExecuted(uint64 indexed height, uint32 indexed seq, uint32 indexed eid, LegResult result);

    /// @notice The reserve (insurance fund) that receives proceeds changed.
    event ReserveSet(address reserve);

    /// @notice Too little gas was left to run a leg (`available` < `required`): the whole call reverts; send it with more gas.
    error InsufficientLegGas(uint256 available, uint256 required);

    // Errors that make a leg fail (they appear as a Failed result's `reason`, not as a revert of the message).

    /// @notice The leg ran after its deadline (unix seconds).
    error DeadlinePassed(uint64 deadline, uint256 timestamp);
    /// @notice A sale would return fewer debt tokens than its bound.
    error SlippageBoundHit(address pool, uint256 amountOut, uint256 minAmountOut);
    /// @notice A swap pool does not trade exactly the leg's collateral against its debt token.
    error InvalidSwapPool(address pool);
    /// @notice Less collateral is held than the swaps sell.
    error InsufficientCollateral(address token, uint256 balance, uint256 needed);
    /// @notice The leg's `protocol` is neither 1 (Morpho Blue) nor 2 (Aave V3).
    error UnsupportedProtocol(uint8 protocol);
    /// @notice The leg is for another chain than this one.
    error WrongChain(uint32 legEid, uint32 localEid);
    /// @notice The Morpho market's tokens differ from the leg's collateral and debt tokens.
    error MarketMismatch(bytes32 marketId);
    /// @notice The leg's collateral and debt tokens are the same.
    error SameToken(address token);

    // Errors that reject a call.

    /// @notice `runLeg` is callable only by the contract itself (the caught self-call).
    error OnlySelf(address caller);
    /// @notice A flash-funding callback came from an address other than the lending protocol of the running leg, or
    /// for a loan this contract did not take.
    error UnauthorizedCallback(address caller);
    /// @notice The reserve may not be the zero address.
    error ZeroReserve();

    /// @notice Executes one leg; reverts on any failure. Only the contract itself may call it (from a try/catch).
    function runLeg(Leg calldata leg) external returns (LegResult memory result);

    /// @notice Where proceeds and leftover collateral go.
    function reserve() external view returns (address);

    /// @notice Sets the reserve (owner only).
    function setReserve(address reserve) external;
}
