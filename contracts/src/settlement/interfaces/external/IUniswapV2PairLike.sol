// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IUniswapV2PairLike
/// @notice The Uniswap V2 pair functions a leg's sale uses (signatures of @uniswap/v2-core IUniswapV2Pair).
interface IUniswapV2PairLike {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}
