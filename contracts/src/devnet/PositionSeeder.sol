// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMorpho, MarketParams} from "@morpho-org/morpho-blue/src/interfaces/IMorpho.sol";
import {IAavePoolMinimal} from "./interfaces/IAavePoolMinimal.sol";
import {IDevnetMintable} from "./interfaces/IDevnetMintable.sol";
import {MorphoBorrower} from "./MorphoBorrower.sol";
import {AaveBorrower} from "./AaveBorrower.sol";

/// @title PositionSeeder
/// @notice Opens many real Morpho Blue and Aave V3 positions in one transaction, for benchmarks on a devnet.
/// Each position is a new MorphoBorrower / AaveBorrower contract (CREATE), so the protocols emit their real
/// events (SupplyCollateral, Borrow / Supply, Borrow) with the borrower as `onBehalf`.
/// @dev Borrow amounts are spread linearly over the batch index space: borrower `i` of `total` borrows
/// `borrowMin + (borrowMax - borrowMin) * i / (total - 1)`, so the positions span a range of LTVs and a price
/// move makes a predictable share liquidatable. Seed in chunks (`firstIndex`, `count`) to fit the block gas limit:
/// a Morpho borrower costs about 125k gas and an Aave user about 230k, and chunks of up to 1,000 keep a receipt
/// (about 7 logs per position) under viem's 10 MB HTTP response limit.
contract PositionSeeder {
    /* TYPES */

    /// @notice A batch of Morpho Blue borrowers.
    struct MorphoBatch {
        IMorpho morpho;
        MarketParams marketParams;
        /// @dev Index of the first borrower of this chunk, in [0, total).
        uint256 firstIndex;
        /// @dev Borrowers in this chunk.
        uint256 count;
        /// @dev Borrowers over all chunks (the spread's denominator).
        uint256 total;
        /// @dev Collateral per borrower (collateral token base units).
        uint256 collateral;
        /// @dev Loan assets borrowed by borrower 0 and by borrower total-1.
        uint256 borrowMin;
        uint256 borrowMax;
        address receiver;
    }

    /// @notice A batch of Aave V3 users.
    struct AaveBatch {
        IAavePoolMinimal pool;
        address collateralAsset;
        address debtAsset;
        uint256 firstIndex;
        uint256 count;
        uint256 total;
        uint256 collateral;
        uint256 borrowMin;
        uint256 borrowMax;
        address receiver;
    }

    /* ERRORS */

    /// @notice Thrown when a chunk lies outside [0, total) or borrowMin > borrowMax.
    error InvalidBatch(uint256 firstIndex, uint256 count, uint256 total);

    /* EVENTS */

    /// @notice Emitted for each Morpho borrower created.
    event MorphoBorrowerCreated(uint256 indexed index, address borrower, uint256 collateral, uint256 borrowAssets);

    /// @notice Emitted for each Aave user created.
    event AaveBorrowerCreated(uint256 indexed index, address borrower, uint256 collateral, uint256 borrowAmount);

    /* EXTERNAL */

    /// @notice Creates `batch.count` Morpho Blue borrowers (see MorphoBorrower).
    /// @return borrowers The borrower addresses, in index order.
    function seedMorpho(MorphoBatch calldata batch) external returns (address[] memory borrowers) {
        _check(batch.firstIndex, batch.count, batch.total, batch.borrowMin, batch.borrowMax);
        borrowers = new address[](batch.count);
        MarketParams memory mp = batch.marketParams;
        for (uint256 k; k < batch.count; ++k) {
            uint256 i = batch.firstIndex + k;
            uint256 amount = _spread(i, batch.total, batch.borrowMin, batch.borrowMax);
            address borrower =
                address(new MorphoBorrower(batch.morpho, mp, batch.collateral, amount, batch.receiver));
            borrowers[k] = borrower;
            emit MorphoBorrowerCreated(i, borrower, batch.collateral, amount);
        }
    }

    /// @notice Creates `batch.count` Aave V3 users (see AaveBorrower).
    /// @return borrowers The user addresses, in index order.
    function seedAave(AaveBatch calldata batch) external returns (address[] memory borrowers) {
        _check(batch.firstIndex, batch.count, batch.total, batch.borrowMin, batch.borrowMax);
        borrowers = new address[](batch.count);
        for (uint256 k; k < batch.count; ++k) {
            uint256 i = batch.firstIndex + k;
            uint256 amount = _spread(i, batch.total, batch.borrowMin, batch.borrowMax);
            address borrower = address(
                new AaveBorrower(
                    batch.pool, batch.collateralAsset, batch.collateral, batch.debtAsset, amount, batch.receiver
                )
            );
            borrowers[k] = borrower;
            emit AaveBorrowerCreated(i, borrower, batch.collateral, amount);
        }
    }

    /// @notice Mints `assets` of the market's loan token and supplies them to Morpho on behalf of `onBehalf`,
    /// so borrowers have liquidity to borrow.
    function supplyMorphoLiquidity(IMorpho morpho, MarketParams calldata marketParams, uint256 assets, address onBehalf)
        external
    {
        IDevnetMintable token = IDevnetMintable(marketParams.loanToken);
        token.mint(address(this), assets);
        token.approve(address(morpho), assets);
        morpho.supply(marketParams, assets, 0, onBehalf, "");
    }

    /// @notice Mints `amount` of `asset` and supplies it to the Aave Pool on behalf of `onBehalf`.
    function supplyAaveLiquidity(IAavePoolMinimal pool, address asset, uint256 amount, address onBehalf) external {
        IDevnetMintable token = IDevnetMintable(asset);
        token.mint(address(this), amount);
        token.approve(address(pool), amount);
        pool.supply(asset, amount, onBehalf, 0);
    }

    /* PURE */

    /// @notice Amount borrowed by borrower `index` of `total`: linear from `borrowMin` to `borrowMax`.
    function borrowAmountOf(uint256 index, uint256 total, uint256 borrowMin, uint256 borrowMax)
        external
        pure
        returns (uint256)
    {
        return _spread(index, total, borrowMin, borrowMax);
    }

    /* INTERNAL */

    function _check(uint256 firstIndex, uint256 count, uint256 total, uint256 borrowMin, uint256 borrowMax)
        internal
        pure
    {
        if (total == 0 || firstIndex + count > total || borrowMin > borrowMax) {
            revert InvalidBatch(firstIndex, count, total);
        }
    }

    function _spread(uint256 index, uint256 total, uint256 borrowMin, uint256 borrowMax)
        internal
        pure
        returns (uint256)
    {
        if (total <= 1) return borrowMin;
        return borrowMin + (borrowMax - borrowMin) * index / (total - 1);
    }
}
