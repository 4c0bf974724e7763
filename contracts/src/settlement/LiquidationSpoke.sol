// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {OApp, Origin, MessagingFee, MessagingReceipt} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {OAppOptionsType3} from "@layerzerolabs/oapp-evm/contracts/oapp/libs/OAppOptionsType3.sol";
import {ILiquidationSpoke} from "./interfaces/ILiquidationSpoke.sol";
import {Leg, LegResult, LegStatus} from "./interfaces/ILiquidationHub.sol";
import {LegExecutor} from "./LegExecutor.sol";
import {SettlementMessages} from "./libraries/SettlementMessages.sol";

/// @title LiquidationSpoke
/// @notice Executes the legs a liqnet hub sends to this chain and answers each with a receipt.
/// @dev A leg message is accepted only from the endpoint (OApp `OnlyEndpoint`), from the hub's EID (`NotHub`) and from
/// the hub peer (OApp `OnlyPeer`). The leg runs in a caught self-call: a failing leg yields a Failed receipt and the
/// packet is consumed, so nothing blocks the path. The receipt's LayerZero fee is paid from the spoke's ETH balance
/// (`_payNative`); when the balance cannot pay, the whole delivery reverts (leg undone) and the packet stays
/// deliverable: fund the spoke, then retry it. Each (height, seq) executes at most once.
contract LiquidationSpoke is ILiquidationSpoke, LegExecutor, OApp, OAppOptionsType3 {
    /// @inheritdoc ILiquidationSpoke
    uint32 public immutable hubEid;

    mapping(uint256 => LegStatus) private _legs;

    /// @param endpoint_ The LayerZero EndpointV2 of this chain.
    /// @param owner_ Owner (OApp delegate): wires the hub peer, enforced options and the reserve.
    /// @param hubEid_ The hub chain's EID; the hub itself is set with `setPeer(hubEid_, hub)`.
    /// @param reserve_ Receives proceeds and leftover collateral.
    constructor(address endpoint_, address owner_, uint32 hubEid_, address reserve_)
        OApp(endpoint_, owner_)
        Ownable(owner_)
        LegExecutor(reserve_)
    {
        hubEid = hubEid_;
    }

    /// @notice Accepts ETH that pays receipt fees.
    receive() external payable {}

    /// @dev A leg from the hub. The OApp base has already checked: caller = endpoint, sender = the peer of srcEid.
    function _lzReceive(Origin calldata origin, bytes32 guid, bytes calldata message, address, bytes calldata)
        internal
        override
    {
        if (origin.srcEid != hubEid) revert NotHub(origin.srcEid, origin.sender);
        uint8 msgType = SettlementMessages.messageType(message);
        if (msgType != SettlementMessages.MSG_LEG) revert UnknownMessageType(msgType);
        (uint64 height, Leg memory leg) = SettlementMessages.decodeLeg(message);
        uint256 key = _legKey(height, leg.seq);
        if (_legs[key] != LegStatus.None) revert LegAlreadyExecuted(height, leg.seq);
        emit LegReceived(height, leg.seq, guid);

        LegResult memory result = _executeLeg(height, leg);
        _legs[key] = result.status;

        bytes memory receipt = SettlementMessages.encodeReceipt(height, leg.seq, result);
        bytes memory options = _receiptOptions();
        MessagingFee memory fee = _quote(hubEid, receipt, options, false);
        MessagingReceipt memory r = _lzSend(hubEid, receipt, options, fee, payable(address(this)));
        emit ReceiptSent(height, leg.seq, r.guid, r.fee.nativeFee);
    }

    /// @dev Receipt fees come from the spoke's balance (not from msg.value, which the executor does not supply).
    function _payNative(uint256 nativeFee) internal view override returns (uint256) {
        if (address(this).balance < nativeFee) revert InsufficientNativeForReceipt(nativeFee, address(this).balance);
        return nativeFee;
    }

    function _receiptOptions() private view returns (bytes memory options) {
        options = enforcedOptions[hubEid][SettlementMessages.MSG_RECEIPT];
        if (options.length == 0) revert MissingEnforcedOptions(hubEid);
    }

    /// @inheritdoc ILiquidationSpoke
    function quoteReceipt(uint64 height, uint32 seq, LegResult calldata result) external view returns (uint256) {
        return _quote(hubEid, SettlementMessages.encodeReceipt(height, seq, result), _receiptOptions(), false).nativeFee;
    }

    /// @inheritdoc ILiquidationSpoke
    function legStatus(uint64 height, uint32 seq) external view returns (LegStatus) {
        return _legs[_legKey(height, seq)];
    }

    /// @inheritdoc ILiquidationSpoke
    function withdrawNative(address payable to, uint256 amount) external onlyOwner {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WithdrawFailed(to, amount);
    }

    function _localEid() internal view override returns (uint32) {
        return endpoint.eid();
    }

    function _legKey(uint64 height, uint32 seq) private pure returns (uint256) {
        return (uint256(height) << 32) | seq;
    }
}
