"""Capital-free takes: a keeper holding no quote at all takes every auction through its
FlashTaker, which sells the collateral through a Uniswap-v3-style router (MockSwapRouter) inside
the liquidator's callback. A router that pays less than the quote owed plus the keeper's minimum
profit makes the take revert in simulation, so nothing unprofitable is sent."""

from __future__ import annotations

from eth_abi import encode
from keeper_support import crashed, drive

from solvent.fastpath import Tx, dev_accounts
from solvent.harness.world import OPERATOR
from solvent.keeper.bot import Keeper, KeeperConfig
from solvent.keeper.signers import LocalKeySigner

FLASH_KEEPER = 9  # a dev account that never received quote
MAX = 2**256 - 1


def _deploy(w, project, name: str, types: list[str], args: list) -> str:
    code = project.get_contract(name).contract_type.deployment_bytecode.bytecode
    data = code + encode(types, args).hex()
    [receipt] = w.send_ok([Tx(OPERATOR, None, data, gas=5_000_000)])
    return receipt["contractAddress"]


def _router_and_taker(w, project, owner: str) -> tuple[str, str]:
    usdc = w.c("quote").address
    router = _deploy(w, project, "MockSwapRouter", ["address"], [usdc])
    taker = _deploy(
        w,
        project,
        "FlashTaker",
        ["address", "address", "address", "address"],
        [w.c("liquidator").address, router, usdc, owner],
    )
    router_codec = project.MockSwapRouter.contract_type
    w.codecs["router"] = _codec(router_codec, router)
    setup = [w.tx(OPERATOR, "quote", "mint", router, 50_000_000 * 10**6)]
    for asset in ("WETH", "WBTC"):
        token = w.record["addresses"][f"token.{asset}"]
        price = w.read("oracle", "price", token)
        setup.append(w.tx(OPERATOR, "router", "setPrice", token, price))
    w.send_ok(setup)
    return router, taker


def _codec(contract_type, address):
    from solvent.abi import ContractCodec, abi_json

    return ContractCodec(abi_json(contract_type), address)


def _cheap_enough(w, blocks: int = 40) -> None:
    for _ in range(blocks):
        w.mine_block(60)
        for auction_id in w.read("liquidator", "activeAuctionIds"):
            status = w.read("liquidator", "status", auction_id)
            if status[7] * 10_000 <= w.read("oracle", "price", status[3]) * 9_800:
                return
    raise AssertionError("no auction became cheap enough to take")


def test_a_keeper_without_quote_takes_every_auction_through_the_router(node, template, project):
    w, keeper, _, _ = crashed(node, template)
    keeper.step()
    drive(w, keeper, 1)  # liquidated and handed to auction; this keeper takes no more part
    running = w.read("liquidator", "activeAuctionIds")
    assert running
    signer = dev_accounts(FLASH_KEEPER + 1)[FLASH_KEEPER]
    _, taker = _router_and_taker(w, project, signer.address)
    assert w.read("quote", "balanceOf", signer.address) == 0
    w.node.call("anvil_setBalance", signer.address, hex(10**20))  # gas only
    config = KeeperConfig(
        rpc_url=w.node.url, record=w.record, abis=w.abis, flash_taker=taker, flash_min_profit_bps=10
    )
    flash = Keeper(config, LocalKeySigner(signer))
    flash.sync()
    _cheap_enough(w)
    taken = 0
    for _ in range(40):
        report = flash.step()
        taken += report.takes_sent
        if not w.read("liquidator", "activeAuctionIds"):
            break
        w.mine_block(60)
    flash.step()
    assert taken >= len(running)
    assert not w.read("liquidator", "activeAuctionIds")
    assert flash.metrics.takes.labels("mined")._value.get() == taken
    assert w.read("quote", "balanceOf", signer.address) == 0  # never needed any quote
    profit = w.read("quote", "balanceOf", taker)
    assert profit > 0  # the sales' surplus stays in the FlashTaker for its owner
    assert flash.metrics.profit_quote._value.get() == profit


def test_an_unprofitable_sale_is_never_sent(node, template, project):
    w, keeper, _, _ = crashed(node, template)
    keeper.step()
    drive(w, keeper, 1)
    signer = dev_accounts(FLASH_KEEPER + 1)[FLASH_KEEPER]
    _, taker = _router_and_taker(w, project, signer.address)
    w.send_ok([w.tx(OPERATOR, "router", "setSlippageBps", 3_000)])  # the pool pays 30% below oracle
    w.node.call("anvil_setBalance", signer.address, hex(10**20))
    config = KeeperConfig(rpc_url=w.node.url, record=w.record, abis=w.abis, flash_taker=taker)
    flash = Keeper(config, LocalKeySigner(signer))
    flash.sync()
    _cheap_enough(w)
    report = flash.step()
    assert report.takes_sent == 0 and report.skipped > 0  # simulation: TooLittleReceived
    assert w.read("liquidator", "activeAuctionIds")
    nonce = int(w.sender.rpc.call("eth_getTransactionCount", signer.address, "latest"), 16)
    assert nonce <= 1  # at most the quote approval: no take went out
