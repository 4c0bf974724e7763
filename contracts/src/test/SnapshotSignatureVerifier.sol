// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title SnapshotSignatureVerifier
/// @notice Test-only contract: recomputes the EIP-712 digest of liqnet's signed snapshots
///         (protocol/signing/eip712.ts) and recovers the operator that signed them.
/// @dev Domain: name "liqnet", version "1", chainId = block.chainid, verifyingContract = this.
///      Batches enter the struct as a count and sha256 of their packed ABI encoding.
contract SnapshotSignatureVerifier {
    // ------------------------------------------------------------------ types

    struct AccountHealth {
        address borrower;
        uint256 collateral;
        uint256 borrowAssets;
        uint256 healthFactor; // WAD
        bool liquidatable;
        uint256 maxSeizable;
    }

    struct HealthSnapshotHeader {
        uint64 chainId;
        uint8 protocol;
        bytes32 market;
        uint64 blockNumber;
        bytes32 blockHash;
        uint64 observedAt; // ms since the Unix epoch
        bool full;
        uint32 part;
        uint32 parts;
    }

    struct DepthPoint {
        bool zeroForOne;
        uint32 impactBps;
        uint256 amountIn;
        uint256 amountOut;
    }

    struct LiquiditySnapshotHeader {
        uint64 chainId;
        uint8 venue;
        address pair;
        address token0;
        address token1;
        uint64 blockNumber;
        bytes32 blockHash;
        uint64 observedAt;
        uint256 reserve0;
        uint256 reserve1;
    }

    // ------------------------------------------------------------------ constants

    bytes32 public constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant HEALTH_SNAPSHOT_TYPEHASH = keccak256(
        "HealthSnapshot(uint64 chainId,uint8 protocol,bytes32 market,uint64 blockNumber,bytes32 blockHash,uint64 observedAt,bool full,uint32 part,uint32 parts,uint32 accountCount,bytes32 accountsHash)"
    );
    bytes32 public constant LIQUIDITY_SNAPSHOT_TYPEHASH = keccak256(
        "LiquiditySnapshot(uint64 chainId,uint8 venue,address pair,address token0,address token1,uint64 blockNumber,bytes32 blockHash,uint64 observedAt,uint256 reserve0,uint256 reserve1,uint32 depthCount,bytes32 depthHash)"
    );
    /// @dev secp256k1n / 2 (EIP-2 low s).
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    // ------------------------------------------------------------------ errors

    error InvalidSignatureLength(uint256 length);
    error InvalidSignatureS();
    error InvalidSignature();

    // ------------------------------------------------------------------ functions

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes("liqnet")), keccak256(bytes("1")), block.chainid, address(this))
        );
    }

    function accountsHash(AccountHealth[] calldata accounts) public pure returns (bytes32) {
        bytes memory packed;
        for (uint256 i = 0; i < accounts.length; i++) {
            AccountHealth calldata a = accounts[i];
            packed = bytes.concat(
                packed,
                abi.encodePacked(a.borrower, a.collateral, a.borrowAssets, a.healthFactor, a.liquidatable, a.maxSeizable)
            );
        }
        return sha256(packed);
    }

    function depthHash(DepthPoint[] calldata points) public pure returns (bytes32) {
        bytes memory packed;
        for (uint256 i = 0; i < points.length; i++) {
            DepthPoint calldata p = points[i];
            packed = bytes.concat(packed, abi.encodePacked(p.zeroForOne, p.impactBps, p.amountIn, p.amountOut));
        }
        return sha256(packed);
    }

    function healthSnapshotDigest(HealthSnapshotHeader calldata h, AccountHealth[] calldata accounts)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(HEALTH_SNAPSHOT_TYPEHASH, h.chainId, h.protocol, h.market, h.blockNumber, h.blockHash),
                abi.encode(h.observedAt, h.full, h.part, h.parts, uint32(accounts.length), accountsHash(accounts))
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function liquiditySnapshotDigest(LiquiditySnapshotHeader calldata h, DepthPoint[] calldata points)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(LIQUIDITY_SNAPSHOT_TYPEHASH, h.chainId, h.venue, h.pair, h.token0, h.token1, h.blockNumber),
                abi.encode(h.blockHash, h.observedAt, h.reserve0, h.reserve1, uint32(points.length), depthHash(points))
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function recoverHealthSnapshotSigner(
        HealthSnapshotHeader calldata h,
        AccountHealth[] calldata accounts,
        bytes calldata signature
    ) external view returns (address) {
        return _recover(healthSnapshotDigest(h, accounts), signature);
    }

    function recoverLiquiditySnapshotSigner(
        LiquiditySnapshotHeader calldata h,
        DepthPoint[] calldata points,
        bytes calldata signature
    ) external view returns (address) {
        return _recover(liquiditySnapshotDigest(h, points), signature);
    }

    function _recover(bytes32 digest, bytes calldata signature) internal pure returns (address signer) {
        if (signature.length != 65) revert InvalidSignatureLength(signature.length);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_N) revert InvalidSignatureS();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
    }
}
