// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOracle} from "@morpho-org/morpho-blue/src/interfaces/IOracle.sol";
import {IUsdPriceFeed} from "./interfaces/IUsdPriceFeed.sol";

/// @title MorphoFeedOracle
/// @notice A Morpho Blue oracle that derives the collateral/loan price from two USD feeds, so that moving one
/// USD feed moves the Aave V3 price (AaveOracle reads the same feed) and the Morpho price together.
/// @dev price = collateralUsd / loanUsd * 10^(36 + loanDecimals - collateralDecimals), feed decimals accounted for,
/// rounded down, as Morpho's IOracle NatSpec defines it.
contract MorphoFeedOracle is IOracle {
    /* IMMUTABLES */

    /// @notice USD feed of the collateral token.
    IUsdPriceFeed public immutable COLLATERAL_FEED;
    /// @notice USD feed of the loan token.
    IUsdPriceFeed public immutable LOAN_FEED;
    /// @notice 10^(36 + loan token decimals - collateral token decimals + loan feed decimals - collateral feed decimals).
    uint256 public immutable SCALE_FACTOR;

    /* ERRORS */

    /// @notice Thrown when the decimals give a negative or too large scale exponent.
    error UnsupportedDecimals(uint256 collateralDecimals, uint256 loanDecimals);
    /// @notice Thrown when a feed answers zero or a negative price.
    error NonPositivePrice(address feed, int256 answer);

    /* CONSTRUCTOR */

    /// @param collateralFeed USD feed of the collateral token.
    /// @param loanFeed USD feed of the loan token.
    /// @param collateralDecimals Decimals of the collateral token.
    /// @param loanDecimals Decimals of the loan token.
    constructor(IUsdPriceFeed collateralFeed, IUsdPriceFeed loanFeed, uint8 collateralDecimals, uint8 loanDecimals) {
        uint256 up = 36 + uint256(loanDecimals) + loanFeed.decimals();
        uint256 down = uint256(collateralDecimals) + collateralFeed.decimals();
        if (down > up || up - down > 60) revert UnsupportedDecimals(collateralDecimals, loanDecimals);
        COLLATERAL_FEED = collateralFeed;
        LOAN_FEED = loanFeed;
        SCALE_FACTOR = 10 ** (up - down);
    }

    /* VIEW */

    /// @inheritdoc IOracle
    function price() external view returns (uint256) {
        return _answer(COLLATERAL_FEED) * SCALE_FACTOR / _answer(LOAN_FEED);
    }

    /* INTERNAL */

    function _answer(IUsdPriceFeed feed) internal view returns (uint256) {
        (, int256 answer,,,) = feed.latestRoundData();
        if (answer <= 0) revert NonPositivePrice(address(feed), answer);
        return uint256(answer);
    }
}
