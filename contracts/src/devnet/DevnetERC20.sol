// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title DevnetERC20
/// @notice An ERC-20 token for local devnets only: anyone may mint any amount to anyone.
/// @dev Never deploy outside a devnet. Decimals are chosen at deployment (e.g. 6 for a USDC-like token).
contract DevnetERC20 is ERC20 {
    /* IMMUTABLES */

    uint8 private immutable _decimals;

    /* CONSTRUCTOR */

    /// @param name_ The token name, e.g. "USD Coin".
    /// @param symbol_ The token symbol, e.g. "USDC".
    /// @param decimals_ The number of decimals of one token unit, e.g. 6 or 18.
    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    /* EXTERNAL */

    /// @notice Mints `amount` base units to `to`. Open to anyone (devnet only).
    /// @param to The receiver of the new tokens.
    /// @param amount The amount, in base units.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /* VIEW */

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
