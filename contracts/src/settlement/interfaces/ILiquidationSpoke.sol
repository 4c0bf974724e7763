// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILegExecutor} from "./ILegExecutor.sol";
import {LegResult, LegStatus} from "./SettlementTypes.sol";

/// @title ILiquidationSpoke
/// @notice The settlement contract of a non-hub chain (a LayerZero V2 OApp). It accepts legs only from the hub peer,
/// through the endpoint; executes each (height, seq) at most once, catching failures; and sends a receipt back to the
/// hub, paying that message's LayerZero fee from its own ETH balance.
interface ILiquidationSpoke is ILegExecutor {
    /// @notice A leg arrived from the hub in packet `guid`.
    event LegReceived(uint64 indexed height, uint32 indexed seq, bytes32 indexed guid);

    /// @notice The receipt of leg (height, seq) was sent to the hub (packet `guid`, native fee paid from the balance, wei).
    event ReceiptSent(uint64 indexed height, uint32 indexed seq, bytes32 indexed guid, uint256 nativeFee);

    /// @notice A message came from an EID other than the hub's.
    error NotHub(uint32 srcEid, bytes32 sender);
    /// @notice Leg (height, seq) was already executed here.
    error LegAlreadyExecuted(uint64 height, uint32 seq);
    /// @notice A message of unknown type reached the spoke.
    error UnknownMessageType(uint8 msgType);
    /// @notice The spoke's ETH balance cannot pay the receipt's LayerZero fee (wei): fund the spoke, then retry the packet.
    error InsufficientNativeForReceipt(uint256 fee, uint256 balance);
    /// @notice No enforced options (lzReceive gas on the hub) are set for receipts.
    error MissingEnforcedOptions(uint32 eid);
    /// @notice Withdrawing ETH failed.
    error WithdrawFailed(address to, uint256 amount);

    /// @notice The hub's EID.
    function hubEid() external view returns (uint32);

    /// @notice Outcome of leg (height, seq) on this spoke (None when it never arrived).
    function legStatus(uint64 height, uint32 seq) external view returns (LegStatus);

    /// @notice The native fee (wei) of a receipt to the hub, as paid from the spoke's balance.
    function quoteReceipt(uint64 height, uint32 seq, LegResult calldata result) external view returns (uint256 nativeFee);

    /// @notice Sends `amount` wei of the spoke's balance to `to` (owner only).
    function withdrawNative(address payable to, uint256 amount) external;
}
