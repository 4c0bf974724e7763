// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILegExecutor} from "./ILegExecutor.sol";
import {SwapStep, Leg, SettlementPlan, LegStatus, LegResult} from "./SettlementTypes.sol";

/// @title ILiquidationHub
/// @notice The settlement hub of a liqnet network (a LayerZero V2 OApp on the hub chain). It holds the operator set and
/// the quorum, verifies a certified plan's commit seals, executes the legs of its own chain and sends every other leg
/// to the spoke of its EID; spokes answer with receipts, which the hub records.
/// @dev Seal domain: EIP-712 {name "liqnet", version "1", chainId: the hub chain, verifyingContract: the hub}.
/// Seals are 65 bytes r ‖ s ‖ v (v ∈ {27, 28}, low s), given in strictly ascending order of their signers' addresses.
interface ILiquidationHub is ILegExecutor {
    // ───────────────────────────── events ─────────────────────────────

    /// @notice A certified plan was accepted (seals verified, height unused) and recorded.
    event PlanSubmitted(
        uint64 indexed height, bytes32 indexed planDigest, address indexed submitter, uint32 legCount, uint32 sealCount
    );

    /// @notice A remote leg was sent to the spoke of `eid` (LayerZero GUID and nonce of the packet, native fee paid, wei).
    event LegDispatched(
        uint64 indexed height, uint32 indexed seq, uint32 indexed eid, bytes32 guid, uint64 nonce, uint256 nativeFee
    );

    /// @notice A spoke's receipt for a remote leg arrived (packet `guid`) and was recorded.
    event ReceiptReceived(uint64 indexed height, uint32 indexed seq, uint32 indexed eid, bytes32 guid, LegResult result);

    /// @notice Every leg of the plan at `height` has an outcome.
    event PlanSettled(uint64 indexed height, uint32 executed, uint32 failed);

    /// @notice The operator set changed (constructor: epoch 0; then certified updates).
    event OperatorsUpdated(uint64 indexed epoch, address[] operators, uint16 quorum);

    // ───────────────────────────── errors ─────────────────────────────

    /// @notice Fewer seals than the quorum.
    error TooFewSeals(uint256 count, uint256 quorum);
    /// @notice Seal `index` is malformed (length ≠ 65, high s, bad v) or recovers to no address.
    error InvalidSeal(uint256 index);
    /// @notice Seal `index` recovers to `signer`, which is not an operator of the current set (a forged or foreign seal).
    error UnknownSigner(uint256 index, address signer);
    /// @notice Seal `index` has the same signer as seal `index - 1`.
    error DuplicateSigner(uint256 index, address signer);
    /// @notice Seal `index`'s signer is below seal `index - 1`'s: seals go in strictly ascending signer order.
    error SignersNotAscending(uint256 index, address signer);
    /// @notice A plan was already submitted at `height` (replay, or a different plan for a used height).
    error HeightAlreadySubmitted(uint64 height);
    /// @notice The plan has no legs.
    error EmptyPlan();
    /// @notice The plan has more legs than `MAX_LEGS`.
    error TooManyLegs(uint256 count, uint256 max);
    /// @notice Leg `index`'s seq is not above the previous leg's: legs go in strictly ascending seq.
    error LegsNotAscending(uint256 index, uint32 seq);
    /// @notice No enforced options (lzReceive gas) are set for the path to `eid`: a leg sent there could not execute.
    error MissingEnforcedOptions(uint32 eid);
    /// @notice `msg.value` does not cover the LayerZero fees of the remote legs (wei).
    error InsufficientFee(uint256 required, uint256 provided);
    /// @notice Returning the unspent `msg.value` to the submitter failed.
    error RefundFailed(address to, uint256 amount);
    /// @notice A receipt names a leg that was not dispatched to the sender's EID or already has an outcome.
    error UnexpectedReceipt(uint64 height, uint32 seq, uint32 srcEid);
    /// @notice A message of unknown type reached the hub.
    error UnknownMessageType(uint8 msgType);
    /// @notice An operator-set update is invalid: empty, too large, a zero or duplicate address.
    error InvalidOperatorSet(uint256 index, address operator);
    /// @notice The quorum is not 2f+1 ≤ quorum ≤ n with f = floor((n-1)/3).
    error InvalidQuorum(uint256 quorum, uint256 operatorCount);

    // ───────────────────────────── functions ─────────────────────────────

    /// @notice Verifies the commit seals of `plan`, records it, executes the legs of this chain and sends every other
    /// leg to its spoke. `msg.value` pays the LayerZero fees (see `quoteSubmitPlan`); the unspent part is returned.
    /// @param plan The certified plan (legs in strictly ascending seq; remote EIDs must have a peer and enforced options).
    /// @param seals Commit seals over (plan.height, keccak256(abi.encode(plan))), ≥ quorum, signers strictly ascending.
    /// @return planDigest keccak256(abi.encode(plan)).
    function submitPlan(SettlementPlan calldata plan, bytes[] calldata seals)
        external
        payable
        returns (bytes32 planDigest);

    /// @notice The native fee (wei) `submitPlan(plan, ...)` needs: the sum of the LayerZero fees of its remote legs.
    function quoteSubmitPlan(SettlementPlan calldata plan) external view returns (uint256 nativeFee);

    /// @notice Replaces the operator set and quorum, certified by a quorum of the current set.
    /// @dev Seals sign EIP-712 `OperatorSetUpdate(uint64 epoch,address[] operators,uint16 quorum)` with epoch =
    /// `epoch() + 1`, in the hub's domain, signers strictly ascending. Plans sealed by the old set are refused afterwards.
    function updateOperators(address[] calldata operators, uint16 quorum, bytes[] calldata seals) external;

    /// @notice The current operator set, in registration order.
    function operators() external view returns (address[] memory);

    /// @notice Seals needed to certify a plan (2f+1 of the current set).
    function quorum() external view returns (uint16);

    /// @notice Number of certified operator-set updates so far (0 = the set given at deployment).
    function epoch() external view returns (uint64);

    /// @notice Whether `account` belongs to the current operator set.
    function isOperator(address account) external view returns (bool);

    /// @notice The digest of the plan recorded at `height` (zero when none).
    function planDigestOf(uint64 height) external view returns (bytes32);

    /// @notice Status and EID of leg (height, seq).
    function legStatus(uint64 height, uint32 seq) external view returns (LegStatus status, uint32 eid);

    /// @notice The EIP-712 domain separator commit seals are bound to.
    function domainSeparator() external view returns (bytes32);

    /// @notice The EIP-712 digest an operator signs to seal `planDigest` at `height`.
    function commitSealDigest(uint64 height, bytes32 planDigest) external view returns (bytes32);
}
