// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Leg, LegResult} from "../interfaces/ILiquidationHub.sol";

/// @title SettlementMessages
/// @notice The LayerZero messages between hub and spokes (ABI-encoded, first word the message type):
/// - `MSG_LEG` (hub → spoke): abi.encode(uint8 1, uint64 height, Leg leg);
/// - `MSG_RECEIPT` (spoke → hub): abi.encode(uint8 2, uint64 height, uint32 seq, LegResult result).
/// The message type is also the OAppOptionsType3 `msgType` keying the enforced options of each path.
library SettlementMessages {
    /// @notice A leg sent by the hub to a spoke.
    uint16 internal constant MSG_LEG = 1;
    /// @notice A receipt sent by a spoke to the hub.
    uint16 internal constant MSG_RECEIPT = 2;
    /// @notice Longest failure reason kept in a receipt (bytes of revert data).
    uint256 internal constant MAX_REASON_BYTES = 256;

    function encodeLeg(uint64 height, Leg calldata leg) internal pure returns (bytes memory) {
        return abi.encode(uint8(MSG_LEG), height, leg);
    }

    function decodeLeg(bytes calldata message) internal pure returns (uint64 height, Leg memory leg) {
        (, height, leg) = abi.decode(message, (uint8, uint64, Leg));
    }

    function encodeReceipt(uint64 height, uint32 seq, LegResult memory result) internal pure returns (bytes memory) {
        return abi.encode(uint8(MSG_RECEIPT), height, seq, result);
    }

    function decodeReceipt(bytes calldata message)
        internal
        pure
        returns (uint64 height, uint32 seq, LegResult memory result)
    {
        (, height, seq, result) = abi.decode(message, (uint8, uint64, uint32, LegResult));
    }

    /// @notice The message type (first ABI word); 0 when the message is shorter than one word.
    function messageType(bytes calldata message) internal pure returns (uint8) {
        if (message.length < 32) return 0;
        return uint8(uint256(bytes32(message[0:32])));
    }

    /// @notice `reason` cut to `MAX_REASON_BYTES`.
    function truncateReason(bytes memory reason) internal pure returns (bytes memory) {
        if (reason.length <= MAX_REASON_BYTES) return reason;
        assembly ("memory-safe") {
            mstore(reason, 256)
        }
        return reason;
    }
}
