// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title SnapshotSignatureVerifier
/// @notice Test-only contract: recomputes the EIP-712 digest of liqnet's signed snapshots
///         (protocol/signing/eip712.ts) and recovers the operator that signed them.
/// @dev Domain: name "liqnet", version "1", chainId = block.chainid, verifyingContract = this.
///      Batches and the market state enter the struct as sha256 of their packed ABI encoding.
contract SnapshotSignatureVerifier {
    // ------------------------------------------------------------------ types

    struct AaveBalance {
        uint32 reserve; // index into the snapshot's Aave reserves
        uint256 collateral;
        uint256 debt;
    }

    struct AccountHealth {
        address borrower;
        uint256 collateral;
        uint256 borrowAssets;
        uint256 healthFactor; // WAD
        bool liquidatable;
        uint256 maxSeizable;
        uint256 borrowShares; // Morpho Blue only
        AaveBalance[] balances; // Aave V3 only
    }

    struct MorphoMarketState {
        address loanToken;
        address collateralToken;
        uint256 lltv; // WAD
        uint256 totalSupplyAssets;
        uint256 totalBorrowAssets;
        uint256 totalBorrowShares;
        uint256 oraclePrice; // 1e36-scaled
    }

    struct AaveReserveState {
        address asset;
        uint32 liquidationThresholdBps;
        uint32 liquidationBonusBps;
        uint32 liquidationProtocolFeeBps;
        uint256 price; // base currency (USD 1e8)
    }

    /// @dev The market state of a snapshot: at most one Morpho market (`morpho.length` 0 or 1) and the Aave reserves.
    struct MarketState {
        MorphoMarketState[] morpho;
        AaveReserveState[] aaveReserves;
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
        uint64 blockTimestamp; // seconds
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
        "HealthSnapshot(uint64 chainId,uint8 protocol,bytes32 market,uint64 blockNumber,bytes32 blockHash,uint64 observedAt,bool full,uint32 part,uint32 parts,uint32 accountCount,bytes32 accountsHash,uint64 blockTimestamp,bytes32 marketStateHash)"
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
                abi.encodePacked(a.borrower, a.collateral, a.borrowAssets, a.healthFactor, a.liquidatable, a.maxSeizable),
                abi.encodePacked(a.borrowShares, uint32(a.balances.length))
            );
            for (uint256 j = 0; j < a.balances.length; j++) {
                AaveBalance calldata b = a.balances[j];
                packed = bytes.concat(packed, abi.encodePacked(b.reserve, b.collateral, b.debt));
            }
        }
        return sha256(packed);
    }

    function marketStateHash(MarketState calldata m) public pure returns (bytes32) {
        bytes memory packed = abi.encodePacked(m.morpho.length > 0);
        if (m.morpho.length > 0) {
            MorphoMarketState calldata s = m.morpho[0];
            packed = bytes.concat(
                packed,
                abi.encodePacked(s.loanToken, s.collateralToken, s.lltv, s.totalSupplyAssets),
                abi.encodePacked(s.totalBorrowAssets, s.totalBorrowShares, s.oraclePrice)
            );
        }
        for (uint256 k = 0; k < m.aaveReserves.length; k++) {
            AaveReserveState calldata r = m.aaveReserves[k];
            packed = bytes.concat(
                packed,
                abi.encodePacked(r.asset, r.liquidationThresholdBps, r.liquidationBonusBps, r.liquidationProtocolFeeBps, r.price)
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

    function healthSnapshotDigest(HealthSnapshotHeader calldata h, AccountHealth[] calldata accounts, MarketState calldata m)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(HEALTH_SNAPSHOT_TYPEHASH, h.chainId, h.protocol, h.market, h.blockNumber, h.blockHash),
                abi.encode(h.observedAt, h.full, h.part, h.parts, uint32(accounts.length), accountsHash(accounts)),
                abi.encode(h.blockTimestamp, marketStateHash(m))
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
        MarketState calldata m,
        bytes calldata signature
    ) external view returns (address) {
        return _recover(healthSnapshotDigest(h, accounts, m), signature);
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
