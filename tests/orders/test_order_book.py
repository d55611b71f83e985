"""OrderBook on the real deployment (config/local.yaml): commit, settle at the determined round,
cancel after expiry; every reject path with its named error; the settler's fee; fills equal to
solvent/model/orders.py to the wei over random order sequences (Hypothesis)."""

from __future__ import annotations

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent import orders
from solvent.governance import govern
from solvent.model import orders as model

from .conftest import MAX, USDC, WAD, open_funded_account

ETH = "WETH"


def _account(system, deployer, owner, usd=1_000_000, sub=0) -> int:
    return open_funded_account(system, deployer, owner, usd, sub)


def _quote(system, account: int) -> int:
    return int(system.admin.accounts(account).quoteBalance)


def _size(system, account: int, market: str = ETH) -> int:
    return int(system.admin.positions(account, system.market_ids[market]).size)


def _settle_now(system, chain, deployer, keeper, oid: int, market: str = ETH):
    """Past the delay, a fresh round at the current price, settled by `keeper`."""
    target, _ = orders.settlement_times(system, oid)
    chain.mine(timestamp=max(target, chain.pending_timestamp))
    orders.publish_current_round(system, market, deployer)
    return orders.settle(system, keeper, oid, market)


# ------------------------------------------------------------------ commit


def test_commit_records_the_order(funded, chain, deployer, trader, config, gas):
    system = funded
    account = _account(system, deployer, trader)
    receipt = orders.commit(system, trader, account, ETH, 10 * WAD, 2_100 * WAD)
    gas.record("orders.commit", receipt)
    oid = orders.order_id(account, system.market_ids[ETH])
    [event] = receipt.events.filter(system.orders.OrderCommitted)
    now = receipt.timestamp
    delay = config.asset(ETH).orders.settlement_delay
    assert (event.orderId, event.accountId, event.marketId) == (oid, account, 0)
    assert (event.sizeDelta, event.acceptablePrice) == (10 * WAD, 2_100 * WAD)
    assert (event.commitTime, event.targetTime) == (now, now + delay)
    order = system.orders.orders(oid)
    assert (order.sizeDelta, order.acceptablePrice, order.targetTime) == (
        10 * WAD,
        2_100 * WAD,
        now + delay,
    )
    window = config.asset(ETH).orders.settlement_window
    assert orders.settlement_times(system, oid) == (now + delay, now + delay + window)
    # The commit fixed the target: a later change of the market's delay does not move it.
    spec = config.asset(ETH).orders
    changed = (60, window, spec.settlement_fee, spec.maker_fee_rate, spec.taker_fee_rate, 1_000)
    govern(system, [(system.orders, "setMarketOrders", 0, changed)])
    assert orders.settlement_times(system, oid)[0] == now + delay


def test_commit_rejects_bad_inputs(funded, deployer, trader, stranger):
    system = funded
    book = system.orders
    account = _account(system, deployer, trader)
    with ape.reverts(book.ZeroSize):
        book.commitOrder(account, 0, 0, MAX, sender=trader)
    for size in (2**95, -(2**95), 2**200):
        with ape.reverts(book.SizeTooLarge):
            book.commitOrder(account, 0, size, MAX, sender=trader)
    with ape.reverts(book.MarketNotOpen, marketId=7):
        book.commitOrder(account, 7, WAD, MAX, sender=trader)
    with ape.reverts(book.MarketNotOpen, marketId=2**200):
        book.commitOrder(account, 2**200, WAD, MAX, sender=trader)
    with ape.reverts(book.UnknownAccount, accountId=999):
        book.commitOrder(999, 0, WAD, MAX, sender=trader)
    with ape.reverts(book.NotAuthorized, accountId=account, caller=stranger):
        book.commitOrder(account, 0, WAD, MAX, sender=stranger)
    # An operator may commit for the owner.
    system.engine.setOperator(stranger, True, sender=trader)
    book.commitOrder(account, 0, WAD, MAX, sender=stranger)
    # One live order per account and market.
    with ape.reverts(book.OrderPending):
        book.commitOrder(account, 0, WAD, MAX, sender=trader)
    book.commitOrder(account, 1, WAD, MAX, sender=trader)  # another market is fine


def test_commit_margin_precheck(funded, chain, deployer, trader, keeper, config):
    """$1,000 of quote: free initial margin $1,000. A 10 ETH order ($20,000) needs 10% ($2,000) +
    taker fee ($10) + settlement fee ($2): refused; 4.9 ETH ($9,800: $980 + $4.90 + $2) passes."""
    system = funded
    account = _account(system, deployer, trader, usd=1_000)
    with ape.reverts(system.orders.InsufficientMarginForOrder, required=2_012 * WAD):
        orders.commit(system, trader, account, ETH, 10 * WAD)
    orders.commit(system, trader, account, ETH, 49 * WAD // 10)
    spec = config.asset(ETH).orders
    required = model.commit_margin(
        49 * WAD // 10,
        2_000 * WAD,
        spec.commit_margin_bps,
        spec.taker_fee_rate,
        spec.settlement_fee,
    )
    assert required == 986_900 * 10**15  # $980 + $4.90 + $2


def test_a_reduction_skips_the_precheck(funded, chain, deployer, trader, keeper):
    """An account whose margin fell below the pre-check can still commit a close."""
    system = funded
    account = _account(system, deployer, trader, usd=21_000)
    receipt = orders.trade(
        system, chain, trader, account, ETH, 100 * WAD, settler=keeper, publisher=deployer
    )
    assert len(receipt.events.filter(system.orders.OrderSettled)) == 1
    for feed in (system.feeds[ETH], system.secondary_feeds[ETH]):
        feed.setAnswer(1_900 * 10 ** int(feed.decimals()), sender=deployer)
    with ape.reverts(system.orders.InsufficientMarginForOrder):
        orders.commit(system, trader, account, ETH, 1 * WAD)
    orders.commit(system, trader, account, ETH, -100 * WAD)  # closing: no pre-check
    oid = orders.order_id(account, 0)
    _settle_now(system, chain, deployer, keeper, oid)
    assert _size(system, account) == 0


# ------------------------------------------------------------------ settle


def test_settle_fills_at_the_determined_round(funded, chain, deployer, trader, keeper, config, gas):
    system = funded
    account = _account(system, deployer, trader)
    orders.commit(system, trader, account, ETH, 100 * WAD)
    oid = orders.order_id(account, 0)
    target, _ = orders.settlement_times(system, oid)
    chain.mine(timestamp=target)
    system.feeds[ETH].setAnswer(2_010 * 10**8, sender=deployer)  # the first round after target
    system.secondary_feeds[ETH].setAnswer(2_010 * WAD, sender=deployer)
    rid = orders.find_round(system.feeds[ETH], target)
    assert rid == int(system.feeds[ETH].roundId())
    skew, scale = system.admin.marketSkew(0)
    system.quote.mint(keeper, 1 * USDC, sender=deployer)  # a keeper holds quote already
    keeper_before = system.quote.balanceOf(keeper)
    quote_before = _quote(system, account)

    receipt = system.orders.settleOrder(oid, rid, sender=keeper)
    # The market's very first position: its funding and open-interest slots are created (2 x 20k).
    gas.record("orders.settle_open_empty_market", receipt)

    [event] = receipt.events.filter(system.orders.OrderSettled)
    spec = config.asset(ETH).orders
    expected = model.settle(
        2_010 * WAD, skew, scale, 100 * WAD, MAX, spec.maker_fee_rate, spec.taker_fee_rate
    )
    assert event.oraclePrice == 2_010 * WAD
    assert (event.fillPrice, event.tradeFee) == (expected.fill_price, expected.trade_fee)
    assert event.settlementFee == spec.settlement_fee
    assert system.quote.balanceOf(keeper) - keeper_before == spec.settlement_fee
    assert _size(system, account) == 100 * WAD
    assert quote_before - _quote(system, account) == expected.trade_fee + spec.settlement_fee
    assert system.orders.orders(oid).targetTime == 0
    with ape.reverts(system.orders.OrderNotPending, orderId=oid):
        system.orders.settleOrder(oid, rid, sender=keeper)
    # The pair's next order reuses the slot; increasing a position prices the portfolio in the
    # pre-check (initialHealthOf reads the feeds, the volatility and the funding). A minute later,
    # so funding and interest always accrue in the views (in the settlement's second they do not:
    # the measured gas would depend on the machine's speed).
    chain.mine(timestamp=receipt.timestamp + 60)
    gas.record("orders.commit_increase", orders.commit(system, trader, account, ETH, 10 * WAD))


def test_settle_open_in_a_market_with_positions(
    funded, chain, deployer, trader, keeper, config, gas
):
    """The gas row of settling an opening order with funding touched: another account holds a
    position in the market (so funding accrues over the order's delay and the market's slots
    exist, as in a live market), and a minute passes before the commit."""
    system = funded
    other = _account(system, deployer, trader, sub=1)
    orders.trade(system, chain, trader, other, ETH, -50 * WAD, settler=keeper, publisher=deployer)
    chain.mine(timestamp=chain.pending_timestamp + 60)
    account = _account(system, deployer, trader)
    orders.commit(system, trader, account, ETH, 100 * WAD)
    oid = orders.order_id(account, 0)
    target, _ = orders.settlement_times(system, oid)
    chain.mine(timestamp=target + 5)
    orders.publish_current_round(system, ETH, deployer)
    rid = orders.find_round(system.feeds[ETH], target)
    skew, scale = system.admin.marketSkew(0)
    assert skew == -50 * WAD
    oracle_price = int(system.oracle.price(system.tokens[ETH]))
    system.quote.mint(keeper, 1 * USDC, sender=deployer)  # a keeper holds quote already
    quote_before = _quote(system, account)
    market_before = system.admin.markets(0)

    receipt = system.orders.settleOrder(oid, rid, sender=keeper)
    gas.record("orders.settle_open", receipt)

    [event] = receipt.events.filter(system.orders.OrderSettled)
    spec = config.asset(ETH).orders
    expected = model.settle(
        oracle_price, skew, scale, 100 * WAD, MAX, spec.maker_fee_rate, spec.taker_fee_rate
    )
    assert (event.fillPrice, event.tradeFee) == (expected.fill_price, expected.trade_fee)
    assert _size(system, account) == 100 * WAD
    assert quote_before - _quote(system, account) == expected.trade_fee + spec.settlement_fee
    # Funding accrued over the delay (the market's clock moved to the settlement's second).
    market = system.admin.markets(0)
    assert market_before.lastFundingTime != 0
    assert market.lastFundingTime == receipt.timestamp > market_before.lastFundingTime


def test_settle_rejects_every_other_round_and_time(funded, chain, deployer, trader, keeper):
    system = funded
    book, feed = system.orders, system.feeds[ETH]
    account = _account(system, deployer, trader)
    orders.commit(system, trader, account, ETH, 10 * WAD)
    oid = orders.order_id(account, 0)
    before_target = int(feed.roundId())
    with ape.reverts(book.SettlementTooEarly, orderId=oid):
        book.settleOrder(oid, before_target, sender=keeper)
    target, expiry = orders.settlement_times(system, oid)
    chain.mine(timestamp=target)
    with ape.reverts(system.oracle.RoundBeforeTarget, roundId=before_target):
        book.settleOrder(oid, before_target, sender=keeper)
    orders.publish_current_round(system, ETH, deployer)
    first = int(feed.roundId())
    orders.publish_current_round(system, ETH, deployer)
    second = int(feed.roundId())
    with ape.reverts(system.oracle.NotFirstRound, roundId=second, predecessor=first):
        book.settleOrder(oid, second, sender=keeper)
    with ape.reverts(system.oracle.RoundUnavailable):
        book.settleOrder(oid, second + 5, sender=keeper)
    assert orders.find_round(feed, target) == first
    chain.mine(timestamp=expiry + 1)
    with ape.reverts(book.OrderExpired, orderId=oid, expiry=expiry):
        book.settleOrder(oid, first, sender=keeper)
    with ape.reverts(book.OrderNotPending):
        book.settleOrder(orders.order_id(account, 1), first, sender=keeper)


def test_unacceptable_price_cancels_and_pays_the_settler(funded, chain, deployer, trader, keeper):
    system = funded
    account = _account(system, deployer, trader)
    orders.commit(system, trader, account, ETH, 10 * WAD, 2_000 * WAD)  # premium: above $2,000
    oid = orders.order_id(account, 0)
    before = system.quote.balanceOf(keeper)
    receipt = _settle_now(system, chain, deployer, keeper, oid)
    [event] = receipt.events.filter(system.orders.OrderCancelled)
    assert event.reason == 1  # AcceptablePrice
    assert event.settlementFee == 2 * USDC == system.quote.balanceOf(keeper) - before
    assert _size(system, account) == 0 and system.orders.orders(oid).targetTime == 0


def test_a_fill_the_engine_refuses_cancels_the_order(funded, chain, deployer, trader, keeper):
    """The trader commits, then withdraws its margin: the engine refuses the fill
    (InsufficientMargin), the order is cancelled with the engine's error and the settler is paid
    from what the account has left."""
    system = funded
    account = _account(system, deployer, trader, usd=30_000)
    orders.commit(system, trader, account, ETH, 100 * WAD)  # $200k: needs $20,112 at commit
    system.engine.withdraw(account, system.quote, 29_999 * USDC, trader, sender=trader)
    oid = orders.order_id(account, 0)
    before = system.quote.balanceOf(keeper)
    receipt = _settle_now(system, chain, deployer, keeper, oid)
    [event] = receipt.events.filter(system.orders.OrderCancelled)
    assert event.reason == 3  # FillRefused
    selector = bytes(event.engineError)[:4]
    from eth_utils import keccak

    assert selector == keccak(text="InsufficientMargin(uint256)")[:4]
    # No position, $1 of quote: the settler gets that dollar, the pool lends nothing.
    assert event.settlementFee == 1 * USDC == system.quote.balanceOf(keeper) - before
    assert _quote(system, account) == 0 and _size(system, account) == 0


def test_the_settlement_fee_is_paid_before_the_fill_margin_check(
    funded, chain, deployer, trader, keeper
):
    """`fillOrder` charges the settlement fee before its margin check: a fill that would end at
    initial health >= 1 without the fee and below 1 with it is refused (cancelled, the settler
    paid from the account's quote). Charged after the check (two calls), the same fill landed with
    free initial margin -$2 (F - w below, measured on that code)."""
    system = funded
    account = _account(system, deployer, trader, usd=30_000)
    orders.commit(system, trader, account, ETH, 100 * WAD)
    oid = orders.order_id(account, 0)
    target, _ = orders.settlement_times(system, oid)
    start = max(target, chain.pending_timestamp) + 10
    snapshot = chain.snapshot()

    def settle_after_withdrawing(units: int):
        system.engine.withdraw(account, system.quote, units, trader, sender=trader)
        chain.mine(timestamp=start)
        orders.publish_current_round(system, ETH, deployer)
        chain.pending_timestamp = start + 10  # both runs settle in the same second
        return orders.settle(system, keeper, oid, ETH)

    receipt = settle_after_withdrawing(1)
    assert len(receipt.events.filter(system.orders.OrderSettled)) == 1
    health = system.admin.initialHealthOf(account)
    free = int(health.equity) - int(health.requirement)  # after the fill and the $2 fee
    assert free > 0
    chain.restore(snapshot)

    # Withdraw just more than that free margin: short by less than the fee once it is paid.
    withdrawn = 1 + free // 10**12 + 100
    assert free - (withdrawn - 1) * 10**12 < 0 <= free + 2 * WAD - (withdrawn - 1) * 10**12
    before = system.quote.balanceOf(keeper)
    receipt = settle_after_withdrawing(withdrawn)
    [event] = receipt.events.filter(system.orders.OrderCancelled)
    assert event.reason == 3  # FillRefused
    from eth_utils import keccak

    assert bytes(event.engineError)[:4] == keccak(text="InsufficientMargin(uint256)")[:4]
    assert event.settlementFee == 2 * USDC == system.quote.balanceOf(keeper) - before
    assert _size(system, account) == 0


# ------------------------------------------------------------------ cancel


def test_nobody_cancels_before_expiry_anyone_after(
    funded, chain, deployer, trader, keeper, stranger
):
    system = funded
    book = system.orders
    account = _account(system, deployer, trader)
    orders.commit(system, trader, account, ETH, 10 * WAD)
    oid = orders.order_id(account, 0)
    _, expiry = orders.settlement_times(system, oid)
    for who in (trader, stranger):
        with ape.reverts(book.OrderNotExpired, orderId=oid, expiry=expiry):
            book.cancelOrder(oid, sender=who)
    chain.mine(timestamp=expiry - 1)  # the next block is at most at expiry: still live
    with ape.reverts(book.OrderNotExpired):
        book.cancelOrder(oid, sender=stranger)
    chain.mine(timestamp=expiry + 1)
    quote_before = _quote(system, account)
    receipt = book.cancelOrder(oid, sender=stranger)
    [event] = receipt.events.filter(book.OrderCancelled)
    assert (event.reason, event.settlementFee) == (0, 0)  # Expired, no fee
    assert _quote(system, account) == quote_before
    with ape.reverts(book.OrderNotPending):
        book.cancelOrder(oid, sender=stranger)


def test_a_new_commit_replaces_an_expired_order(funded, chain, deployer, trader):
    system = funded
    account = _account(system, deployer, trader)
    orders.commit(system, trader, account, ETH, 10 * WAD)
    oid = orders.order_id(account, 0)
    _, expiry = orders.settlement_times(system, oid)
    chain.mine(timestamp=expiry + 1)
    receipt = orders.commit(system, trader, account, ETH, -5 * WAD)
    [cancelled] = receipt.events.filter(system.orders.OrderCancelled)
    assert cancelled.orderId == oid and cancelled.reason == 0
    assert system.orders.orders(oid).sizeDelta == -5 * WAD


# ------------------------------------------------------------------ governance


# 20-50 s alone: `make test-slow` (and CI) runs it; `make test` stays nearer 10 minutes
@pytest.mark.slow
def test_market_configuration_bounds(funded, deployer, stranger):
    book = funded.orders
    good = (15, 4_500, 2 * USDC, 2 * 10**14, 5 * 10**14, 1_000)

    def with_(index: int, value: int) -> tuple:
        return tuple(value if i == index else v for i, v in enumerate(good))

    with ape.reverts(book.AccessControlUnauthorizedAccount):
        book.setMarketOrders(0, good, sender=stranger)
    with ape.reverts(book.AccessControlUnauthorizedAccount):
        book.setMarketOrders(0, good, sender=deployer)  # the deployer renounced its roles
    with ape.reverts(book.UnknownMarket):
        govern(funded, [(book, "setMarketOrders", 5, good)])
    with ape.reverts(book.UnknownMarket):
        govern(funded, [(book, "setMarketOrders", 256, good)])
    cases = [
        (0, 0, book.SettlementDelayOutOfRange),
        (0, 3_601, book.SettlementDelayOutOfRange),
        (1, 9, book.SettlementWindowOutOfRange),
        (1, 86_401, book.SettlementWindowOutOfRange),
        (2, 100 * USDC + 1, book.SettlementFeeOutOfRange),
        (4, 10**16 + 1, book.FeeRateOutOfRange),
        (3, 6 * 10**14, book.FeeRateOutOfRange),  # maker above taker
        (5, 99, book.CommitMarginOutOfRange),
        (5, 10_001, book.CommitMarginOutOfRange),
    ]
    for index, value, error in cases:
        with ape.reverts(error):
            govern(funded, [(book, "setMarketOrders", 0, with_(index, value))])
    receipt = govern(funded, [(book, "setMarketOrders", 0, with_(2, 100 * USDC))])
    assert len(receipt.events.filter(book.MarketOrdersSet)) == 1
    assert book.marketOrders(0).settlementFee == 100 * USDC


# ------------------------------------------------------------------ model == contract


order_size = st.integers(min_value=-500, max_value=500).filter(lambda s: s != 0)
price_move = st.integers(min_value=-300, max_value=300)  # bps


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(st.tuples(order_size, price_move, st.booleans()), min_size=1, max_size=5))
def test_fills_and_fees_equal_the_model(funded, chain, deployer, accounts, config, steps):
    """Random orders from two traders with price moves between commit and settlement: every
    settlement's fill price and fee equal the model's at the round's price and the skew before."""
    system = funded
    spec = config.asset(ETH).orders
    traders = [accounts[5], accounts[6]]
    ids = []
    for who in traders:
        existing = int(system.engine.accountIdOf(who, 7))
        ids.append(existing or _account(system, deployer, who, usd=5_000_000, sub=7))
    eth = int(system.feeds[ETH].latestRoundData()[1])
    for size, move, second in steps:
        who, account = (traders[1], ids[1]) if second else (traders[0], ids[0])
        delta = size * WAD // 10
        orders.commit(system, who, account, ETH, delta)
        oid = orders.order_id(account, 0)
        target, _ = orders.settlement_times(system, oid)
        chain.mine(timestamp=max(target, chain.pending_timestamp))
        eth = max(eth * (10_000 + move) // 10_000, 100 * 10**8)
        system.feeds[ETH].setAnswer(eth, sender=deployer)
        system.secondary_feeds[ETH].setAnswer(eth * 10**10, sender=deployer)
        skew, scale = system.admin.marketSkew(0)
        receipt = orders.settle(system, deployer, oid, ETH)
        expected = model.settle(
            eth * 10**10,
            skew,
            scale,
            delta,
            orders.unlimited_price(delta),
            spec.maker_fee_rate,
            spec.taker_fee_rate,
        )
        [event] = receipt.events.filter(system.orders.OrderSettled)
        assert (event.fillPrice, event.tradeFee) == (expected.fill_price, expected.trade_fee)
        assert system.admin.marketSkew(0)[0] == skew + delta


@pytest.mark.slow
def test_a_settler_cannot_starve_the_fill_to_cancel_it(funded, chain, deployer, trader, keeper):
    """A settler sends the settlement with every gas limit from too little to enough: the fill
    never ends as a cancellation. When the engine runs out of gas (a revert without data) the
    settlement reverts `FillFailedWithoutReason` instead, and with enough gas the order fills."""
    system = funded
    account = _account(system, deployer, trader)
    orders.commit(system, trader, account, ETH, 100 * WAD)
    oid = orders.order_id(account, 0)
    target, _ = orders.settlement_times(system, oid)
    chain.mine(timestamp=target)
    orders.publish_current_round(system, ETH, deployer)
    rid = orders.find_round(system.feeds[ETH], target)
    starved = 0
    for limit in range(190_000, 420_000, 25_000):
        try:
            receipt = system.orders.settleOrder(oid, rid, sender=keeper, gas=limit)
        except ape.exceptions.ContractLogicError as error:
            if "FillFailedWithoutReason" in type(error).__name__:
                starved += 1
            continue
        except ape.exceptions.VirtualMachineError:
            continue  # out of gas outside the fill
        assert not list(receipt.events.filter(system.orders.OrderCancelled))
        assert len(receipt.events.filter(system.orders.OrderSettled)) == 1
        break
    else:
        pytest.fail("never settled")
    assert starved > 0
    assert _size(system, account) == 100 * WAD
