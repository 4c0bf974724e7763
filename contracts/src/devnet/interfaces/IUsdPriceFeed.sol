// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IUsdPriceFeed
/// @notice The subset of Chainlink's AggregatorV3Interface and AggregatorInterface that liqnet's devnet feeds serve.
interface IUsdPriceFeed {
    /// @notice Number of decimals of the answer (8 for USD feeds).
    function decimals() external view returns (uint8);

    /// @notice What the feed prices, e.g. "WETH / USD".
    function description() external view returns (string memory);

    /// @notice Version of the feed implementation.
    function version() external view returns (uint256);

    /// @notice The latest answer: USD per whole token, with `decimals()` decimals.
    function latestAnswer() external view returns (int256);

    /// @notice Timestamp (s) of the latest answer.
    function latestTimestamp() external view returns (uint256);

    /// @notice Id of the latest round.
    function latestRound() external view returns (uint256);

    /// @notice The latest round, Chainlink AggregatorV3Interface style.
    /// @return roundId The round id.
    /// @return answer The answer, with `decimals()` decimals.
    /// @return startedAt Timestamp (s) the round started.
    /// @return updatedAt Timestamp (s) of the answer.
    /// @return answeredInRound The round in which the answer was computed.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
