// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {OApp, Origin, MessagingFee, MessagingReceipt} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {OAppOptionsType3} from "@layerzerolabs/oapp-evm/contracts/oapp/libs/OAppOptionsType3.sol";
import {ILiquidationHub, SettlementPlan, Leg, LegResult, LegStatus} from "./interfaces/ILiquidationHub.sol";
import {LegExecutor} from "./LegExecutor.sol";
import {SettlementMessages} from "./libraries/SettlementMessages.sol";

/// @title LiquidationHub
/// @notice The settlement hub of a liqnet network: verifies certified plans and settles them across chains.
/// @dev Rules, in the order `submitPlan` checks them:
/// - seals: at least `quorum`, each 65 bytes with low s, recovering to an operator of the current set, signers in
///   strictly ascending address order (which makes them distinct without a mapping);
/// - height: unused (each height settles at most one plan; heights may arrive out of order);
/// - legs: 1..MAX_LEGS, strictly ascending seq; a remote leg's EID needs a peer and enforced options.
/// Operator-set changes are certified by a quorum of the current set (`updateOperators`), never by the owner alone.
/// The owner wires peers, enforced options and the reserve (LayerZero OApp administration).
contract LiquidationHub is ILiquidationHub, LegExecutor, OApp, OAppOptionsType3, EIP712 {
    /// @notice Most legs in one plan.
    uint256 public constant MAX_LEGS = 64;
    /// @notice Most operators in a set.
    uint256 public constant MAX_OPERATORS = 256;
    /// @notice keccak256("CommitSeal(uint64 height,bytes32 planDigest)").
    bytes32 public constant COMMIT_SEAL_TYPEHASH = keccak256("CommitSeal(uint64 height,bytes32 planDigest)");
    /// @notice keccak256("OperatorSetUpdate(uint64 epoch,address[] operators,uint16 quorum)").
    bytes32 public constant OPERATOR_SET_UPDATE_TYPEHASH =
        keccak256("OperatorSetUpdate(uint64 epoch,address[] operators,uint16 quorum)");

    // ───────────────────────────── storage ─────────────────────────────

    struct LegRecord {
        uint32 eid;
        LegStatus status;
    }

    struct PlanRecord {
        bytes32 digest;
        uint32 legCount;
        uint32 executed;
        uint32 failed;
    }

    address[] private _operators;
    /// @dev operator → 1 + the epoch in which it belongs to the set (0 = never).
    mapping(address => uint64) private _operatorEpoch;
    /// @inheritdoc ILiquidationHub
    uint16 public quorum;
    /// @inheritdoc ILiquidationHub
    uint64 public epoch;

    mapping(uint64 height => PlanRecord) private _plans;
    /// @dev (height << 32 | seq) → leg record.
    mapping(uint256 => LegRecord) private _legs;

    /// @dev Wei of `msg.value` not yet spent on fees in the running `submitPlan`.
    uint256 private transient _feeBudget;

    /// @param endpoint_ The LayerZero EndpointV2 of this chain.
    /// @param owner_ Owner (OApp delegate): wires peers, enforced options and the reserve.
    /// @param operators_ The operator set (distinct, non-zero).
    /// @param quorum_ Seals needed: 2f+1 ≤ quorum ≤ n, f = floor((n-1)/3).
    /// @param reserve_ Receives proceeds and leftover collateral of this chain's legs.
    constructor(address endpoint_, address owner_, address[] memory operators_, uint16 quorum_, address reserve_)
        OApp(endpoint_, owner_)
        Ownable(owner_)
        LegExecutor(reserve_)
        EIP712("liqnet", "1")
    {
        _setOperators(operators_, quorum_, 0);
    }

    // ───────────────────────────── submitPlan ─────────────────────────────

    /// @inheritdoc ILiquidationHub
    function submitPlan(SettlementPlan calldata plan, bytes[] calldata seals)
        external
        payable
        returns (bytes32 planDigest)
    {
        // Checks.
        planDigest = keccak256(abi.encode(plan));
        _verifySeals(_hashTypedDataV4(keccak256(abi.encode(COMMIT_SEAL_TYPEHASH, plan.height, planDigest))), seals);
        uint64 height = plan.height;
        if (_plans[height].digest != bytes32(0)) revert HeightAlreadySubmitted(height);
        uint256 n = plan.legs.length;
        if (n == 0) revert EmptyPlan();
        if (n > MAX_LEGS) revert TooManyLegs(n, MAX_LEGS);
        uint32 local = _localEid();
        for (uint256 i = 0; i < n; i++) {
            Leg calldata leg = plan.legs[i];
            if (i > 0 && leg.seq <= plan.legs[i - 1].seq) revert LegsNotAscending(i, leg.seq);
            if (leg.eid != local) {
                _getPeerOrRevert(leg.eid);
                if (enforcedOptions[leg.eid][SettlementMessages.MSG_LEG].length == 0) {
                    revert MissingEnforcedOptions(leg.eid);
                }
            }
        }

        // Effects.
        _plans[height] = PlanRecord({digest: planDigest, legCount: uint32(n), executed: 0, failed: 0});
        for (uint256 i = 0; i < n; i++) {
            _legs[_legKey(height, plan.legs[i].seq)] = LegRecord({eid: plan.legs[i].eid, status: LegStatus.Dispatched});
        }
        emit PlanSubmitted(height, planDigest, msg.sender, uint32(n), uint32(seals.length));

        // Interactions: local legs run here (caught), remote legs go to their spokes.
        _feeBudget = msg.value;
        for (uint256 i = 0; i < n; i++) {
            Leg calldata leg = plan.legs[i];
            if (leg.eid == local) {
                LegResult memory result = _executeLeg(height, leg);
                _recordOutcome(height, leg.seq, result.status);
            } else {
                _dispatch(height, leg);
            }
        }
        uint256 refund = _feeBudget;
        _feeBudget = 0;
        if (refund > 0) {
            (bool ok,) = msg.sender.call{value: refund}("");
            if (!ok) revert RefundFailed(msg.sender, refund);
        }
    }

    /// @inheritdoc ILiquidationHub
    function quoteSubmitPlan(SettlementPlan calldata plan) external view returns (uint256 nativeFee) {
        uint32 local = _localEid();
        for (uint256 i = 0; i < plan.legs.length; i++) {
            Leg calldata leg = plan.legs[i];
            if (leg.eid == local) continue;
            nativeFee += _quote(
                leg.eid, SettlementMessages.encodeLeg(plan.height, leg), _legOptions(leg.eid), false
            ).nativeFee;
        }
    }

    function _dispatch(uint64 height, Leg calldata leg) private {
        bytes memory message = SettlementMessages.encodeLeg(height, leg);
        bytes memory options = _legOptions(leg.eid);
        MessagingFee memory fee = _quote(leg.eid, message, options, false);
        MessagingReceipt memory r = _lzSend(leg.eid, message, options, fee, payable(msg.sender));
        emit LegDispatched(height, leg.seq, leg.eid, r.guid, r.nonce, r.fee.nativeFee);
    }

    function _legOptions(uint32 eid) private view returns (bytes memory) {
        return enforcedOptions[eid][SettlementMessages.MSG_LEG];
    }

    /// @dev Fees come from the running `submitPlan`'s `msg.value`, leg by leg.
    function _payNative(uint256 nativeFee) internal override returns (uint256) {
        uint256 budget = _feeBudget;
        if (nativeFee > budget) revert InsufficientFee(nativeFee, budget);
        _feeBudget = budget - nativeFee;
        return nativeFee;
    }

    // ───────────────────────────── receipts ─────────────────────────────

    /// @dev Receipts from spokes. The OApp base has already checked: caller = endpoint, sender = the peer of srcEid.
    function _lzReceive(Origin calldata origin, bytes32 guid, bytes calldata message, address, bytes calldata)
        internal
        override
    {
        uint8 msgType = SettlementMessages.messageType(message);
        if (msgType != SettlementMessages.MSG_RECEIPT) revert UnknownMessageType(msgType);
        (uint64 height, uint32 seq, LegResult memory result) = SettlementMessages.decodeReceipt(message);
        LegRecord storage leg = _legs[_legKey(height, seq)];
        if (
            leg.status != LegStatus.Dispatched || leg.eid != origin.srcEid
                || (result.status != LegStatus.Executed && result.status != LegStatus.Failed)
        ) {
            revert UnexpectedReceipt(height, seq, origin.srcEid);
        }
        emit ReceiptReceived(height, seq, origin.srcEid, guid, result);
        _recordOutcome(height, seq, result.status);
    }

    function _recordOutcome(uint64 height, uint32 seq, LegStatus status) private {
        _legs[_legKey(height, seq)].status = status;
        PlanRecord storage p = _plans[height];
        if (status == LegStatus.Executed) p.executed++;
        else p.failed++;
        if (p.executed + p.failed == p.legCount) emit PlanSettled(height, p.executed, p.failed);
    }

    // ───────────────────────────── operators ─────────────────────────────

    /// @inheritdoc ILiquidationHub
    function updateOperators(address[] calldata operators_, uint16 quorum_, bytes[] calldata seals) external {
        uint64 next = epoch + 1;
        bytes32 structHash = keccak256(
            abi.encode(OPERATOR_SET_UPDATE_TYPEHASH, next, keccak256(abi.encodePacked(operators_)), quorum_)
        );
        _verifySeals(_hashTypedDataV4(structHash), seals);
        _setOperators(operators_, quorum_, next);
    }

    function _setOperators(address[] memory operators_, uint16 quorum_, uint64 epoch_) private {
        uint256 n = operators_.length;
        if (n == 0 || n > MAX_OPERATORS) revert InvalidOperatorSet(n, address(0));
        if (quorum_ < 2 * ((n - 1) / 3) + 1 || quorum_ > n) revert InvalidQuorum(quorum_, n);
        for (uint256 i = 0; i < n; i++) {
            address op = operators_[i];
            if (op == address(0) || _operatorEpoch[op] == epoch_ + 1) revert InvalidOperatorSet(i, op);
            _operatorEpoch[op] = epoch_ + 1;
        }
        _operators = operators_;
        quorum = quorum_;
        epoch = epoch_;
        emit OperatorsUpdated(epoch_, operators_, quorum_);
    }

    /// @dev Reverts unless `seals` hold ≥ quorum valid signatures of `digest` by distinct operators, signers ascending.
    function _verifySeals(bytes32 digest, bytes[] calldata seals) private view {
        uint256 count = seals.length;
        if (count < quorum) revert TooFewSeals(count, quorum);
        uint64 member = epoch + 1;
        address previous = address(0);
        for (uint256 i = 0; i < count; i++) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, seals[i]);
            if (err != ECDSA.RecoverError.NoError || signer == address(0)) revert InvalidSeal(i);
            if (_operatorEpoch[signer] != member) revert UnknownSigner(i, signer);
            if (signer == previous) revert DuplicateSigner(i, signer);
            if (signer < previous) revert SignersNotAscending(i, signer);
            previous = signer;
        }
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc ILiquidationHub
    function operators() external view returns (address[] memory) {
        return _operators;
    }

    /// @inheritdoc ILiquidationHub
    function isOperator(address account) external view returns (bool) {
        return _operatorEpoch[account] == epoch + 1;
    }

    /// @inheritdoc ILiquidationHub
    function planDigestOf(uint64 height) external view returns (bytes32) {
        return _plans[height].digest;
    }

    /// @inheritdoc ILiquidationHub
    function legStatus(uint64 height, uint32 seq) external view returns (LegStatus status, uint32 eid) {
        LegRecord storage leg = _legs[_legKey(height, seq)];
        return (leg.status, leg.eid);
    }

    /// @inheritdoc ILiquidationHub
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc ILiquidationHub
    function commitSealDigest(uint64 height, bytes32 planDigest) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(COMMIT_SEAL_TYPEHASH, height, planDigest)));
    }

    function _localEid() internal view override returns (uint32) {
        return endpoint.eid();
    }

    function _legKey(uint64 height, uint32 seq) private pure returns (uint256) {
        return (uint256(height) << 32) | seq;
    }
}
