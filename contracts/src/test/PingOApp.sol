// SPDX-License-Identifier: MIT
pragma solidity ^0.8.22;

import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { OApp, Origin, MessagingFee, MessagingReceipt } from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";

/**
 * @title PingOApp
 * @notice Test-only LayerZero V2 OApp (on @layerzerolabs/oapp-evm) for exercising the devnet relayer:
 *         `ping` sends a message to the peer on `dstEid`; the receiver counts it, records how many times each GUID
 *         was delivered and, for a round trip, answers with a pong paid from its own balance.
 * @dev Message = abi.encode(uint8 kind, uint64 id). kind 0: one way; kind 1: answer with a kind-0 pong of the same id;
 *      kind 2: revert in lzReceive (a stuck message, for LzReceiveAlert paths).
 */
contract PingOApp is OApp {
    /// @notice kind of a one-way message.
    uint8 public constant KIND_ONE_WAY = 0;
    /// @notice kind of a message the receiver answers (A -> B -> A).
    uint8 public constant KIND_ROUND_TRIP = 1;
    /// @notice kind of a message whose delivery reverts.
    uint8 public constant KIND_REVERT = 2;

    /// @notice Messages received (every successful lzReceive).
    uint256 public received;
    /// @notice Times each GUID was delivered (must never exceed 1).
    mapping(bytes32 guid => uint256 count) public deliveries;
    /// @notice Options of the pongs this OApp sends back (executor lzReceive gas).
    bytes public returnOptions;

    /// @notice A message was delivered.
    event Received(bytes32 indexed guid, uint32 srcEid, uint64 nonce, uint8 kind, uint64 id);
    /// @notice A message was sent (ping or pong).
    event Sent(bytes32 indexed guid, uint32 dstEid, uint64 nonce, uint8 kind, uint64 id);

    /// @notice The message asked for a revert (kind 2).
    error PingRejected(uint64 id);
    /// @notice The OApp's balance cannot pay the messaging fee.
    error PingFeeUnpaid(uint256 balance, uint256 fee);

    constructor(address _endpoint, address _owner) OApp(_endpoint, _owner) Ownable(_owner) {}

    receive() external payable {}

    /// @notice Sets the options of the pongs.
    function setReturnOptions(bytes calldata options) external onlyOwner {
        returnOptions = options;
    }

    /// @notice Native fee of a ping to `dstEid` with `options`.
    function quotePing(uint32 dstEid, uint8 kind, uint64 id, bytes calldata options) external view returns (MessagingFee memory) {
        return _quote(dstEid, abi.encode(kind, id), options, false);
    }

    /// @notice Sends a ping; msg.value (added to this contract's balance) pays the fee.
    function ping(uint32 dstEid, uint8 kind, uint64 id, bytes calldata options) external payable returns (MessagingReceipt memory receipt) {
        receipt = _send(dstEid, kind, id, options);
    }

    function _send(uint32 dstEid, uint8 kind, uint64 id, bytes memory options) internal returns (MessagingReceipt memory receipt) {
        bytes memory message = abi.encode(kind, id);
        MessagingFee memory fee = _quote(dstEid, message, options, false);
        receipt = _lzSend(dstEid, message, options, fee, address(this));
        emit Sent(receipt.guid, dstEid, receipt.nonce, kind, id);
    }

    /// @dev Fees come out of this contract's balance (pings top it up; pongs are sent from inside lzReceive).
    function _payNative(uint256 _nativeFee) internal view override returns (uint256) {
        if (address(this).balance < _nativeFee) revert PingFeeUnpaid(address(this).balance, _nativeFee);
        return _nativeFee;
    }

    function _lzReceive(Origin calldata origin, bytes32 guid, bytes calldata message, address, bytes calldata) internal override {
        (uint8 kind, uint64 id) = abi.decode(message, (uint8, uint64));
        if (kind == KIND_REVERT) revert PingRejected(id);
        received += 1;
        deliveries[guid] += 1;
        emit Received(guid, origin.srcEid, origin.nonce, kind, id);
        if (kind == KIND_ROUND_TRIP) _send(origin.srcEid, KIND_ONE_WAY, id, returnOptions);
    }
}
