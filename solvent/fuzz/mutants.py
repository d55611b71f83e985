"""Deliberately broken variants of the protocol, to show the state machine catches them.

A mutant is one textual edit of one Solidity file. It is compiled (solc-js, through the project's
wrapper, the file's imports read from the worktree) as a standard-JSON input in which the edited
file replaces the original, deployed with the real contract's constructor arguments, and its
runtime code is put at the real contract's address (`anvil_setCode`): storage, wiring and
immutables stay those of the real deployment. Call inside a snapshot: the swap is permanent.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode

from solvent.abi import abi_type
from solvent.fastpath import Tx
from solvent.fuzz.driver import Call, FastDriver
from solvent.fuzz.system import DEPLOYER

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "tools" / "solc-js-wrapper.js"
REMAPPING = "@openzeppelin/contracts=node_modules/@openzeppelin/contracts"


@dataclass(frozen=True)
class Mutant:
    name: str
    target: str  # the codec key of the contract replaced
    contract: str  # its contract name
    contract_file: str  # the file declaring it
    edited_file: str  # the file the edit applies to (the contract's own or a base's)
    original: str
    replacement: str = ""


MUTANTS = (
    Mutant(
        "withdraw skips the health check",
        "engine",
        "MarginEngine",
        "contracts/engine/MarginEngine.sol",
        "contracts/engine/MarginEngine.sol",
        "        if (!idle) _requireInitialHealth(account, accountId, cache);\n"
        "        IERC20(token).safeTransfer(to, amount);",
        "        IERC20(token).safeTransfer(to, amount);",
    ),
    Mutant(
        "take ignores maxPrice",
        "liquidator",
        "DutchAuctionLiquidator",
        "contracts/liquidation/DutchAuctionLiquidator.sol",
        "contracts/liquidation/DutchAuctionLiquidator.sol",
        "        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);\n",
    ),
    Mutant(
        "liquidate ignores health",
        "engine",
        "MarginEngine",
        "contracts/engine/MarginEngine.sol",
        "contracts/engine/EngineBase.sol",
        "        if (health >= WAD) revert AccountHealthy(health);\n",
    ),
    Mutant(
        "fillOrder skips the margin check",
        "engine",
        "MarginEngine",
        "contracts/engine/MarginEngine.sol",
        "contracts/engine/MarginEngine.sol",
        "        if (increasesRisk) _requireInitialHealth(account, accountId, cache);\n",
    ),
    Mutant(
        "settlement skips the first-round check",
        "oracle",
        "OracleAdapter",
        "contracts/oracle/OracleAdapter.sol",
        "contracts/oracle/OracleAdapter.sol",
        "        _requireFirstRound(feed, roundId, notBefore);\n",
    ),
    Mutant(
        "funding owed rounds down in the views",
        "extension",
        "MarginEngineExtension",
        "contracts/engine/MarginEngineExtension.sol",
        "contracts/engine/EngineBase.sol",
        "        return MarginMath.ceilDiv(size * (index - entry), FUNDING_QUOTE_DIVISOR);",
        "        return MarginMath.floorDiv(size * (index - entry), FUNDING_QUOTE_DIVISOR);",
    ),
    Mutant(
        "interest due rounds down in the views",
        "extension",
        "MarginEngineExtension",
        "contracts/engine/MarginEngineExtension.sol",
        "contracts/engine/EngineBase.sol",
        "        return MarginMath.mulDivUp(debt, index, from) - debt;",
        "        return MarginMath.mulDivDown(debt, index, from) - debt;",
    ),
    Mutant(
        "cancelOrder ignores expiry",
        "orders",
        "OrderBook",
        "contracts/orders/OrderBook.sol",
        "contracts/orders/OrderBook.sol",
        "        if (block.timestamp <= expiry) revert OrderNotExpired(orderId, expiry);\n",
    ),
    Mutant(
        "a fill skips the exposure bound",
        "engine",
        "MarginEngine",
        "contracts/engine/MarginEngine.sol",
        "contracts/engine/EngineBase.sol",
        "        if (increasesRisk) _requireExposureBound(market, marketId, sizeDelta, price, "
        "ledger.poolCash);\n",
    ),
    Mutant(
        "a profit is paid beyond the pool's cash",
        "engine",
        "MarginEngine",
        "contracts/engine/MarginEngine.sol",
        "contracts/engine/EngineBase.sol",
        "            int256 cash = ledger.poolCash > 0 ? int256(ledger.poolCash) : int256(0);",
        "            int256 cash = type(int256).max;",
    ),
    Mutant(
        "auto-deleveraging skips the trigger",
        "liquidation",
        "MarginEngineLiquidation",
        "contracts/engine/MarginEngineLiquidation.sol",
        "contracts/engine/MarginEngineLiquidation.sol",
        "        if (factor <= trigger) revert AdlNotTriggered(factor, trigger);\n",
    ),
    Mutant(
        "auto-deleveraging closes the last position in full",
        "liquidation",
        "MarginEngineLiquidation",
        "contracts/engine/MarginEngineLiquidation.sol",
        "contracts/engine/MarginEngineLiquidation.sol",
        "        if (pnlHeld > 0 && _adlFactor(book, pnlHeld) > target) return held;\n",
        "        return held;\n",
    ),
)


def compile_mutant(mutant: Mutant) -> tuple[list[dict[str, Any]], str]:
    """(abi, creation bytecode) of the mutated contract."""
    original = (ROOT / mutant.edited_file).read_text()
    if original.count(mutant.original) != 1:
        raise ValueError(
            f"{mutant.name}: the edit does not match {mutant.edited_file} exactly once"
        )
    sources = {
        mutant.edited_file: {"content": original.replace(mutant.original, mutant.replacement)}
    }
    if mutant.contract_file != mutant.edited_file:
        sources[mutant.contract_file] = {"content": (ROOT / mutant.contract_file).read_text()}
    standard_input = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "optimizer": {"enabled": True, "runs": 1000},
            "evmVersion": "cancun",
            "remappings": [REMAPPING],
            "outputSelection": {mutant.contract_file: {mutant.contract: ["abi", "evm.bytecode"]}},
        },
    }
    result = subprocess.run(
        ["node", str(WRAPPER), "--standard-json", "--base-path", str(ROOT)],
        input=json.dumps(standard_input),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    output = json.loads(result.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise RuntimeError(f"{mutant.name} does not compile:\n" + "\n".join(errors))
    compiled = output["contracts"][mutant.contract_file][mutant.contract]
    return compiled["abi"], compiled["evm"]["bytecode"]["object"]


def constructor_args(driver: FastDriver, mutant: Mutant, deployer: str) -> list[Any]:
    codec = driver.codec
    if mutant.contract == "MarginEngine":
        [extension] = driver.views([Call("engine", "extension")])
        return [codec.address("quote"), codec.address("oracle"), deployer, extension]
    if mutant.contract == "DutchAuctionLiquidator":
        keys = ("engine", "quote", "oracle", "fund")
        return [*(codec.address(k) for k in keys), deployer]
    if mutant.contract in ("MarginEngineExtension", "MarginEngineLiquidation"):
        return [codec.address("quote"), codec.address("oracle")]
    if mutant.contract == "OracleAdapter":
        return []  # storage (feeds, roles) stays the real adapter's
    if mutant.contract == "OrderBook":
        return [codec.address("engine"), codec.address("oracle"), deployer]
    raise ValueError(f"no constructor arguments known for {mutant.contract}")


def install(driver: FastDriver, mutant: Mutant, deployer: str) -> None:
    """Deploys the mutant and moves its runtime code to the real contract's address."""
    abi, bytecode = compile_mutant(mutant)
    [constructor] = [item for item in abi if item["type"] == "constructor"]
    args = constructor_args(driver, mutant, deployer)
    encoded = abi_encode([abi_type(i) for i in constructor["inputs"]], args).hex()
    [tx_hash] = driver.sender.send(
        [Tx(sender=DEPLOYER, to=None, data="0x" + bytecode + encoded, gas=15_000_000)]
    )
    receipt = None
    while receipt is None:
        receipt = driver.rpc.call("eth_getTransactionReceipt", tx_hash)
    if int(receipt["status"], 16) != 1:
        raise RuntimeError(f"{mutant.name}: deployment reverted")
    code = driver.rpc.call("eth_getCode", receipt["contractAddress"], "latest")
    if mutant.target in ("extension", "liquidation"):  # the engine delegatecalls its address
        [target] = driver.views([Call("engine", mutant.target)])
    else:
        target = driver.codec.address(mutant.target)
    driver.rpc.call("anvil_setCode", target, code)
