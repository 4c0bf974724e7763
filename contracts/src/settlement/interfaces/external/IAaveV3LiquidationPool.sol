// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAaveV3LiquidationPool
/// @notice The Aave V3 Pool functions a leg uses (signatures of @aave/core-v3 IPool.sol).
interface IAaveV3LiquidationPool {
    /// @notice Repays up to `debtToCover` of `user`'s `debtAsset` debt and seizes `collateralAsset` plus the liquidation bonus.
    function liquidationCall(
        address collateralAsset,
        address debtAsset,
        address user,
        uint256 debtToCover,
        bool receiveAToken
    ) external;

    /// @notice Lends `amount` of `asset` to `receiverAddress` for one call of its `executeOperation`.
    function flashLoanSimple(
        address receiverAddress,
        address asset,
        uint256 amount,
        bytes calldata params,
        uint16 referralCode
    ) external;
}

/// @title IAaveV3FlashLoanSimpleReceiver
/// @notice The callback of `flashLoanSimple` (as in @aave/core-v3 IFlashLoanSimpleReceiver.sol).
interface IAaveV3FlashLoanSimpleReceiver {
    /// @return true when `amount + premium` of `asset` may be pulled back by the Pool.
    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool);
}
