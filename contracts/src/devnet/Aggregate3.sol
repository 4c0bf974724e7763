// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Aggregate3
/// @notice A minimal multicall with the Multicall3 `aggregate3` interface that viem's `multicall` calls.
/// @dev The devnet plants this contract's runtime code at the canonical Multicall3 address
/// 0xcA11bde05977b3631167028862bE2a173976CA11 (anvil_setCode), so it must keep no storage and no immutables.
contract Aggregate3 {
    /* TYPES */

    /// @notice One call: `target.call(callData)`; when `allowFailure` is false a failure reverts the batch.
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    /// @notice The outcome of one call.
    struct Result {
        bool success;
        bytes returnData;
    }

    /* ERRORS */

    /// @notice Thrown when call `index` failed and did not allow failure; carries its revert data.
    error CallFailed(uint256 index, bytes returnData);

    /* EXTERNAL */

    /// @notice Runs `calls` in order and returns each outcome.
    /// @param calls The calls to make.
    /// @return returnData One result per call, in order.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        uint256 length = calls.length;
        returnData = new Result[](length);
        for (uint256 i; i < length; ++i) {
            Call3 calldata c = calls[i];
            (bool success, bytes memory ret) = c.target.call(c.callData);
            if (!success && !c.allowFailure) revert CallFailed(i, ret);
            returnData[i] = Result(success, ret);
        }
    }

    /* VIEW */

    /// @notice The current block number.
    function getBlockNumber() external view returns (uint256 blockNumber) {
        blockNumber = block.number;
    }

    /// @notice The current block timestamp (s).
    function getCurrentBlockTimestamp() external view returns (uint256 timestamp) {
        timestamp = block.timestamp;
    }

    /// @notice The chain id.
    function getChainId() external view returns (uint256 chainid) {
        chainid = block.chainid;
    }

    /// @notice The ETH balance (wei) of `addr`.
    function getEthBalance(address addr) external view returns (uint256 balance) {
        balance = addr.balance;
    }
}
