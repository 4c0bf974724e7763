// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAavePoolMinimal
/// @notice The Aave V3 Pool entry points the devnet seeders call (signatures as in @aave/core-v3 IPool.sol).
interface IAavePoolMinimal {
    /// @notice Supplies `amount` of `asset`, minting aTokens to `onBehalfOf`.
    function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode) external;

    /// @notice Borrows `amount` of `asset` at `interestRateMode` (1 stable, 2 variable) against `onBehalfOf`'s collateral.
    function borrow(address asset, uint256 amount, uint256 interestRateMode, uint16 referralCode, address onBehalfOf)
        external;
}
