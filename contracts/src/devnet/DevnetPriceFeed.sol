// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IUsdPriceFeed} from "./interfaces/IUsdPriceFeed.sol";

/// @title DevnetPriceFeed
/// @notice A Chainlink-style USD price feed (8 decimals) whose owner sets the answer, for local devnets.
/// @dev Aave V3's AaveOracle reads `latestAnswer()`; MorphoFeedOracle reads `latestRoundData()`.
/// Each `setAnswer` starts a new round, as a Chainlink aggregator would.
contract DevnetPriceFeed is IUsdPriceFeed, Ownable {
    /* STORAGE */

    int256 private _answer;
    uint80 private _roundId;
    uint256 private _updatedAt;
    string private _description;

    /* ERRORS */

    /// @notice Thrown when an answer is zero or negative: a USD price must be positive.
    error NonPositiveAnswer(int256 answer);

    /* EVENTS */

    /// @notice Emitted on each new answer (same signature as Chainlink's AggregatorInterface).
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    /* CONSTRUCTOR */

    /// @param description_ e.g. "WETH / USD".
    /// @param initialAnswer The first answer, USD with 8 decimals (e.g. 3000e8).
    constructor(string memory description_, int256 initialAnswer) Ownable(msg.sender) {
        _description = description_;
        _setAnswer(initialAnswer);
    }

    /* OWNER */

    /// @notice Sets a new answer and starts a new round.
    /// @param answer USD price with 8 decimals; must be positive.
    function setAnswer(int256 answer) external onlyOwner {
        _setAnswer(answer);
    }

    /* VIEW */

    /// @inheritdoc IUsdPriceFeed
    function decimals() external pure returns (uint8) {
        return 8;
    }

    /// @inheritdoc IUsdPriceFeed
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc IUsdPriceFeed
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc IUsdPriceFeed
    function latestAnswer() external view returns (int256) {
        return _answer;
    }

    /// @inheritdoc IUsdPriceFeed
    function latestTimestamp() external view returns (uint256) {
        return _updatedAt;
    }

    /// @inheritdoc IUsdPriceFeed
    function latestRound() external view returns (uint256) {
        return _roundId;
    }

    /// @inheritdoc IUsdPriceFeed
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return (_roundId, _answer, _updatedAt, _updatedAt, _roundId);
    }

    /* INTERNAL */

    function _setAnswer(int256 answer) internal {
        if (answer <= 0) revert NonPositiveAnswer(answer);
        _answer = answer;
        _updatedAt = block.timestamp;
        uint80 roundId = ++_roundId;
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }
}
