// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMorpho, MarketParams} from "@morpho-org/morpho-blue/src/interfaces/IMorpho.sol";
import {IDevnetMintable} from "./interfaces/IDevnetMintable.sol";

/// @title MorphoBorrower
/// @notice A Morpho Blue borrower that opens its position in its constructor, with real protocol calls:
/// it mints `collateral` of the market's collateral token to itself, supplies it as collateral, and borrows
/// `borrowAssets` of the loan token to `receiver`. The contract itself is the borrower (position owner).
/// @dev Devnet only: the collateral token must have an open `mint` (DevnetERC20). The market must hold
/// enough supplied liquidity, and the borrow must leave the position healthy, or the constructor reverts
/// with Morpho's reason.
contract MorphoBorrower {
    /// @param morpho The Morpho Blue singleton.
    /// @param marketParams The market to borrow in.
    /// @param collateral Collateral assets to supply (collateral token base units).
    /// @param borrowAssets Loan assets to borrow (loan token base units); 0 opens a collateral-only position.
    /// @param receiver Receiver of the borrowed assets.
    constructor(
        IMorpho morpho,
        MarketParams memory marketParams,
        uint256 collateral,
        uint256 borrowAssets,
        address receiver
    ) {
        IDevnetMintable token = IDevnetMintable(marketParams.collateralToken);
        token.mint(address(this), collateral);
        token.approve(address(morpho), collateral);
        morpho.supplyCollateral(marketParams, collateral, address(this), "");
        if (borrowAssets > 0) morpho.borrow(marketParams, borrowAssets, 0, address(this), receiver);
    }
}
