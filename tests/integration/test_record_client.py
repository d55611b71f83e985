"""A client with web3.py and the deployment record only (no ape project, no ABI from elsewhere)
opens an account, deposits, trades through the order flow and reads health and governance
parameters: the record carries every contract's ABI, the engine's merged with its extension's."""

from __future__ import annotations

import json

import pytest
from web3 import Web3

from solvent.deploy import write_record

USDC = 10**6
WAD = 10**18
MAX = 2**256 - 1


@pytest.fixture
def record(system, config, deployer, accounts, tmp_path) -> dict:
    """The record as `ape run deploy` writes it, read back as plain JSON, with $10M in the pool
    (set up by the LP through ape: the client under test is a trader)."""
    lp = accounts[1]
    system.quote.mint(lp, 10_000_000 * USDC, sender=deployer)
    system.quote.approve(system.pool, MAX, sender=lp)
    system.pool.deposit(10_000_000 * USDC, lp, sender=lp)
    path = write_record(system, config, "local", 31337, "0.8.28", folder=tmp_path)
    return json.loads(path.read_text())


def contract(w3: Web3, record: dict, key: str):
    name = record["contracts"][key]
    return w3.eth.contract(address=record["addresses"][key], abi=record["abis"][name])


def test_a_web3_client_trades_from_the_record_alone(record, chain):
    w3 = Web3(Web3.HTTPProvider(chain.provider.uri))
    trader = w3.eth.accounts[5]
    engine = contract(w3, record, "engine")
    book = contract(w3, record, "order_book")
    quote = contract(w3, record, "quote")
    feed = contract(w3, record, "feed.WETH")
    market = record["market_ids"]["WETH"]

    def send(call) -> dict:
        receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": trader}))
        assert receipt["status"] == 1
        return receipt

    send(engine.functions.openAccount(0))
    account = engine.functions.accountIdOf(trader, 0).call()
    assert account > 0
    send(quote.functions.mint(trader, 20_000 * USDC))
    send(quote.functions.approve(engine.address, MAX))
    send(engine.functions.deposit(account, quote.address, 20_000 * USDC))

    send(book.functions.commitOrder(account, market, 10 * WAD, MAX))
    order_id = account << 8 | market
    target, expiry = book.functions.settlementTimes(order_id).call()
    assert expiry > target > 0
    head = w3.eth.get_block("latest")["timestamp"]
    w3.provider.make_request("evm_increaseTime", [max(target - head, 0)])
    answer = feed.functions.latestRoundData().call()[1]
    send(feed.functions.setAnswer(answer))  # a round at or after the target time
    round_id = feed.functions.latestRoundData().call()[0]
    receipt = send(book.functions.settleOrder(order_id, round_id))
    [settled] = book.events.OrderSettled().process_receipt(receipt)
    assert settled["args"]["orderId"] == order_id

    size = engine.functions.positions(account, market).call()[0]
    assert size == 10 * WAD
    [health] = engine.functions.healthOf([account]).call()
    assert health[2] > WAD  # healthy: $20k backs 10 ETH
    liquidation = engine.functions.liquidationParams().call()
    assert liquidation[0] > 0
    assert engine.functions.markets(market).call()[0] == record["addresses"]["token.WETH"]

    # Governance: who may change it, and how fast, from the record alone.
    timelock = contract(w3, record, "timelock")
    assert timelock.functions.getMinDelay().call() == record["parameters"]["governance"]["delay"]
    governor = engine.functions.GOVERNOR_ROLE().call()
    assert engine.functions.hasRole(governor, timelock.address).call()
    assert record["roles"]["engine"]["GOVERNOR_ROLE"] == [timelock.address]
    proposer = timelock.functions.PROPOSER_ROLE().call()
    for holder in record["roles"]["timelock"]["PROPOSER_ROLE"]:
        assert timelock.functions.hasRole(proposer, holder).call()


def test_the_engine_abi_in_the_record_has_both_halves_once(record):
    engine = record["abis"]["MarginEngine"]
    functions = [(f["name"], len(f["inputs"])) for f in engine if f["type"] == "function"]
    assert len(functions) == len(set(functions))
    names = {name for name, _ in functions}
    assert {"deposit", "liquidate", "fillOrder"} <= names  # the engine's own
    assert {"withdraw", "healthOf", "ledger", "setOrderBook"} <= names  # through its fallback
    assert set(record["contracts"]) == set(record["addresses"]) - {"engine_extension"}
