// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IMorpho, Id, MarketParams} from "@morpho-org/morpho-blue/src/interfaces/IMorpho.sol";
import {IMorphoLiquidateCallback} from "@morpho-org/morpho-blue/src/interfaces/IMorphoCallbacks.sol";
import {ILegExecutor} from "./interfaces/ILegExecutor.sol";
import {Leg, LegResult, LegStatus, SwapStep} from "./interfaces/ILiquidationHub.sol";
import {IAaveV3LiquidationPool, IAaveV3FlashLoanSimpleReceiver} from "./interfaces/external/IAaveV3LiquidationPool.sol";
import {IUniswapV2PairLike} from "./interfaces/external/IUniswapV2PairLike.sol";
import {SettlementMessages} from "./libraries/SettlementMessages.sol";

/// @title LegExecutor
/// @notice Executes legs of a certified plan on this chain; inherited by the hub and the spokes.
/// @dev `_executeLeg` calls `this.runLeg` inside try/catch with a gas cap that keeps `LEG_GAS_RESERVE` for what follows
/// (recording, the receipt), so a failing leg becomes a Failed result instead of a revert. The call reverts with
/// `InsufficientLegGas` when less than `LEG_MIN_GAS` could reach the leg, so too little gas never fails a leg.
/// All of a failed leg's effects are undone by the reverted self-call. Flash-funding callbacks are accepted only from
/// the lending protocol the running leg called, while it runs (transient storage).
abstract contract LegExecutor is ILegExecutor, IMorphoLiquidateCallback, IAaveV3FlashLoanSimpleReceiver, Ownable {
    using SafeERC20 for IERC20;

    /// @notice Protocol ids of `Leg.protocol`.
    uint8 internal constant PROTOCOL_MORPHO_BLUE = 1;
    uint8 internal constant PROTOCOL_AAVE_V3 = 2;
    /// @notice Gas kept back from a leg's self-call for recording its outcome and sending the receipt.
    uint256 internal constant LEG_GAS_RESERVE = 150_000;
    /// @notice Least gas a leg's self-call must be able to get. Below it the whole call reverts with `InsufficientLegGas`
    /// instead of failing the leg: a transaction sent with too little gas (an `eth_estimateGas` answer that lets
    /// the try/catch swallow an out-of-gas, for instance) must not turn executable legs into Failed receipts.
    uint256 internal constant LEG_MIN_GAS = 1_000_000;

    // ───────────────────────────── storage ─────────────────────────────

    /// @inheritdoc ILegExecutor
    address public reserve;

    /// @dev The lending protocol allowed to call back while a leg runs (zero otherwise).
    address private transient _callbackFrom;
    /// @dev The running Aave leg's results, set in `executeOperation`.
    uint256 private transient _aaveRepaid;
    uint256 private transient _aaveSeized;

    constructor(address reserve_) {
        _setReserve(reserve_);
    }

    // ───────────────────────────── admin ─────────────────────────────

    /// @inheritdoc ILegExecutor
    function setReserve(address reserve_) external onlyOwner {
        _setReserve(reserve_);
    }

    function _setReserve(address reserve_) private {
        if (reserve_ == address(0)) revert ZeroReserve();
        reserve = reserve_;
        emit ReserveSet(reserve_);
    }

    /// @dev The LayerZero EID of this chain.
    function _localEid() internal view virtual returns (uint32);

    // ───────────────────────────── execution ─────────────────────────────

    /// @dev Runs `leg` in a caught self-call and emits `LegExecuted`. Never reverts on the leg's account.
    function _executeLeg(uint64 height, Leg memory leg) internal returns (LegResult memory result) {
        uint256 budget = gasleft();
        // EIP-150: the callee gets at most 63/64 of what is left.
        if (budget < LEG_GAS_RESERVE + (LEG_MIN_GAS * 64) / 63) revert InsufficientLegGas(budget, LEG_GAS_RESERVE + (LEG_MIN_GAS * 64) / 63);
        budget -= LEG_GAS_RESERVE;
        try this.runLeg{gas: budget}(leg) returns (LegResult memory r) {
            result = r;
        } catch (bytes memory reason) {
            result.status = LegStatus.Failed;
            result.reason = SettlementMessages.truncateReason(reason);
        }
        emit LegExecuted(height, leg.seq, _localEid(), result);
    }

    /// @inheritdoc ILegExecutor
    function runLeg(Leg calldata leg) external returns (LegResult memory result) {
        if (msg.sender != address(this)) revert OnlySelf(msg.sender);
        if (block.timestamp > leg.deadline) revert DeadlinePassed(leg.deadline, block.timestamp);
        uint32 local = _localEid();
        if (leg.eid != local) revert WrongChain(leg.eid, local);
        if (leg.collateralToken == leg.debtToken) revert SameToken(leg.debtToken);

        IERC20 collateral = IERC20(leg.collateralToken);
        IERC20 debt = IERC20(leg.debtToken);
        uint256 collateralBefore = collateral.balanceOf(address(this));
        uint256 debtBefore = debt.balanceOf(address(this));

        if (leg.protocol == PROTOCOL_MORPHO_BLUE) {
            (result.seizedAssets, result.repaidAssets) = _liquidateMorpho(leg);
        } else if (leg.protocol == PROTOCOL_AAVE_V3) {
            (result.seizedAssets, result.repaidAssets) = _liquidateAave(leg);
        } else {
            revert UnsupportedProtocol(leg.protocol);
        }

        // What is left of this leg (never balances held before it) goes to the reserve.
        uint256 collateralAfter = collateral.balanceOf(address(this));
        uint256 debtAfter = debt.balanceOf(address(this));
        address to = reserve;
        if (debtAfter > debtBefore) {
            result.proceeds = debtAfter - debtBefore;
            debt.safeTransfer(to, result.proceeds);
        }
        if (collateralAfter > collateralBefore) {
            result.collateralLeft = collateralAfter - collateralBefore;
            collateral.safeTransfer(to, result.collateralLeft);
        }
        result.status = LegStatus.Executed;
    }

    // ───────────────────────────── Morpho Blue ─────────────────────────────

    function _liquidateMorpho(Leg calldata leg) private returns (uint256 seized, uint256 repaid) {
        IMorpho morpho = IMorpho(leg.target);
        MarketParams memory mp = morpho.idToMarketParams(Id.wrap(leg.marketId));
        if (mp.collateralToken != leg.collateralToken || mp.loanToken != leg.debtToken) {
            revert MarketMismatch(leg.marketId);
        }
        _callbackFrom = address(morpho);
        // Morpho sends the seized collateral, then calls onMorphoLiquidate, then pulls the repaid assets.
        (seized, repaid) = morpho.liquidate(
            mp, leg.borrower, leg.seizedAssets, leg.repaidShares, abi.encode(leg.collateralToken, leg.debtToken, leg.swaps)
        );
        _callbackFrom = address(0);
    }

    /// @notice Morpho Blue's liquidation callback: sells the seized collateral and approves the repayment.
    /// @dev Only the Morpho of the running leg may call it.
    function onMorphoLiquidate(uint256 repaidAssets, bytes calldata data) external {
        if (msg.sender != _callbackFrom || msg.sender == address(0)) revert UnauthorizedCallback(msg.sender);
        (address collateralToken, address debtToken, SwapStep[] memory swaps) =
            abi.decode(data, (address, address, SwapStep[]));
        _sell(collateralToken, debtToken, swaps);
        IERC20(debtToken).forceApprove(msg.sender, repaidAssets);
    }

    // ───────────────────────────── Aave V3 ─────────────────────────────

    function _liquidateAave(Leg calldata leg) private returns (uint256 seized, uint256 repaid) {
        _callbackFrom = leg.target;
        IAaveV3LiquidationPool(leg.target).flashLoanSimple(
            address(this),
            leg.debtToken,
            leg.debtToCover,
            abi.encode(leg.collateralToken, leg.borrower, leg.debtToCover, leg.swaps),
            0
        );
        _callbackFrom = address(0);
        (seized, repaid) = (_aaveSeized, _aaveRepaid);
    }

    /// @notice Aave V3's flash-loan callback: liquidates with the borrowed debt tokens, sells the seized collateral and
    /// approves `amount + premium` for the Pool to pull back.
    /// @dev Only the Pool of the running leg may call it, for a loan this contract initiated.
    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool)
    {
        if (msg.sender != _callbackFrom || msg.sender == address(0) || initiator != address(this)) {
            revert UnauthorizedCallback(msg.sender);
        }
        (address collateralToken, address borrower, uint256 debtToCover, SwapStep[] memory swaps) =
            abi.decode(params, (address, address, uint256, SwapStep[]));
        IERC20(asset).forceApprove(msg.sender, amount);
        (_aaveSeized, _aaveRepaid) = _aaveLiquidationCall(msg.sender, collateralToken, asset, borrower, debtToCover);
        _sell(collateralToken, asset, swaps);
        IERC20(asset).forceApprove(msg.sender, amount + premium);
        return true;
    }

    /// @dev `liquidationCall` (underlying collateral, not aTokens); returns the collateral received and the debt paid.
    function _aaveLiquidationCall(address pool, address collateralToken, address debtToken, address borrower, uint256 debtToCover)
        private
        returns (uint256 seized, uint256 repaid)
    {
        uint256 debtBefore = IERC20(debtToken).balanceOf(address(this));
        uint256 collateralBefore = IERC20(collateralToken).balanceOf(address(this));
        IAaveV3LiquidationPool(pool).liquidationCall(collateralToken, debtToken, borrower, debtToCover, false);
        repaid = debtBefore - IERC20(debtToken).balanceOf(address(this));
        seized = IERC20(collateralToken).balanceOf(address(this)) - collateralBefore;
    }

    // ───────────────────────────── Uniswap V2 ─────────────────────────────

    /// @dev Sells collateral on each pair in order: transfer to the pair, then `swap` for the output given by the V2
    /// formula (0.3% fee), which must reach the step's `minAmountOut`.
    function _sell(address tokenIn, address tokenOut, SwapStep[] memory swaps) private {
        for (uint256 i = 0; i < swaps.length; i++) {
            SwapStep memory s = swaps[i];
            if (s.amountIn == 0) continue;
            IUniswapV2PairLike pair = IUniswapV2PairLike(s.pool);
            address token0 = pair.token0();
            address token1 = pair.token1();
            bool zeroForOne = token0 == tokenIn;
            if (!(zeroForOne ? token1 == tokenOut : (token1 == tokenIn && token0 == tokenOut))) {
                revert InvalidSwapPool(s.pool);
            }
            uint256 balance = IERC20(tokenIn).balanceOf(address(this));
            if (balance < s.amountIn) revert InsufficientCollateral(tokenIn, balance, s.amountIn);
            (uint112 r0, uint112 r1,) = pair.getReserves();
            uint256 amountOut = _getAmountOut(s.amountIn, zeroForOne ? r0 : r1, zeroForOne ? r1 : r0);
            if (amountOut < s.minAmountOut || amountOut == 0) revert SlippageBoundHit(s.pool, amountOut, s.minAmountOut);
            IERC20(tokenIn).safeTransfer(s.pool, s.amountIn);
            pair.swap(zeroForOne ? 0 : amountOut, zeroForOne ? amountOut : 0, address(this), "");
        }
    }

    /// @dev UniswapV2Library.getAmountOut: amountIn·997·reserveOut / (reserveIn·1000 + amountIn·997).
    function _getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) private pure returns (uint256) {
        if (reserveIn == 0 || reserveOut == 0) return 0;
        uint256 amountInWithFee = amountIn * 997;
        return (amountInWithFee * reserveOut) / (reserveIn * 1000 + amountInWithFee);
    }
}
