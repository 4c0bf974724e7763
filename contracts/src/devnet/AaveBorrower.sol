// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAavePoolMinimal} from "./interfaces/IAavePoolMinimal.sol";
import {IDevnetMintable} from "./interfaces/IDevnetMintable.sol";

/// @title AaveBorrower
/// @notice An Aave V3 user that opens its position in its constructor, with real protocol calls: it mints
/// `collateral` of `collateralAsset` to itself, supplies it to the Pool (which enables it as collateral),
/// borrows `borrowAmount` of `debtAsset` at the variable rate, and sends the borrowed assets to `receiver`.
/// The contract itself is the Aave user.
/// @dev Devnet only: the collateral asset must have an open `mint` (DevnetERC20), the debt reserve must hold
/// enough liquidity, and the borrow must keep the health factor above 1, or the constructor reverts with
/// Aave's error code.
contract AaveBorrower {
    /// @dev Aave V3 interest rate mode for variable-rate debt.
    uint256 internal constant VARIABLE_RATE = 2;

    /// @param pool The Aave V3 Pool (proxy).
    /// @param collateralAsset The asset supplied as collateral.
    /// @param collateral Amount supplied (base units).
    /// @param debtAsset The asset borrowed.
    /// @param borrowAmount Amount borrowed (base units); 0 opens a supply-only position.
    /// @param receiver Receiver of the borrowed assets.
    constructor(
        IAavePoolMinimal pool,
        address collateralAsset,
        uint256 collateral,
        address debtAsset,
        uint256 borrowAmount,
        address receiver
    ) {
        IDevnetMintable token = IDevnetMintable(collateralAsset);
        token.mint(address(this), collateral);
        token.approve(address(pool), collateral);
        pool.supply(collateralAsset, collateral, address(this), 0);
        if (borrowAmount > 0) {
            pool.borrow(debtAsset, borrowAmount, VARIABLE_RATE, 0, address(this));
            IDevnetMintable(debtAsset).transfer(receiver, borrowAmount);
        }
    }
}
