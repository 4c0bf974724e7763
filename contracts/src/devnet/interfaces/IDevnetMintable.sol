// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IDevnetMintable
/// @notice An ERC-20 with an open `mint`, as DevnetERC20 has. The position seeders mint collateral with it.
interface IDevnetMintable is IERC20 {
    /// @notice Mints `amount` base units to `to`.
    function mint(address to, uint256 amount) external;
}
