"""The Solvent keeper: a synchronous polling loop over batched JSON-RPC.

Each `step` at a new head: one batch reads the head, the oracle prices, the running auctions, the
keeper's quote balance and nonce; the engine's logs since the last step update the account index;
only accounts touched by those logs, exposed to an asset whose price moved, or everything after a
volatility poke are re-checked with the extension's `healthOf` (batched eth_calls); liquidations,
takes and resets are simulated with eth_call first and then signed and sent in one batch through
the TxManager. With an order book in the deployment record, the keeper also follows its events
and settles each pending order in the block after its price exists (the first round of the
market's feed at or after the order's target time), batched, and cancels expired orders
(solvent/keeper/orders.py). Why not silverback: see docs/keeper.md.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from solvent.abi import ContractCodec, decode_static_tuple_array, encode_uint_array_call
from solvent.keeper import adl as adl_keeper
from solvent.keeper.logs import LOGGER_NAME, log
from solvent.keeper.lp_requests import LP_EVENTS, LPRequestIndex, PendingRequest
from solvent.keeper.metrics import KeeperMetrics
from solvent.keeper.orders import (
    AGGREGATOR_ABI,
    OrderIndex,
    PendingOrder,
    Round,
    determining_rounds,
    parse_round_id,
    round_id,
)
from solvent.keeper.transactions import (
    FeePolicy,
    Outcome,
    PendingTx,
    SendRejected,
    Signer,
    TxManager,
    TxRequest,
)
from solvent.rpc import RpcClient, RpcError, RpcUnavailable

WAD = 10**18
BPS = 10_000
MAX_UINT = 2**256 - 1
HEALTH_FIELDS = 3  # AccountHealth(equity, requirement, health)
READS = 7  # head, previous block, nonce, auctions, gas, quote balance, queued lots; then prices
REWIND_MEMORY = 4_096  # mined actions remembered to correct the counters after a rewind
GWEI = 10**9
CONTRACTS = (
    "MarginEngine",
    "MarginEngineExtension",
    "DutchAuctionLiquidator",
    "OracleAdapter",
    "MockERC20",
    "LPPool",
    "InsuranceFund",
    "FlashTaker",
    "OrderBook",
)
# Order book events the keeper follows (pending orders, market windows).
ORDER_EVENTS = ("OrderCommitted", "OrderSettled", "OrderCancelled", "MarketOrdersSet")
# Engine events that change an account's health or bring a new account into the index.
ACCOUNT_EVENTS = (
    "AccountOpened",
    "Deposited",
    "Withdrawn",
    "Traded",
    "Liquidated",
    "HandedToAuction",
    "AuctionEnded",
    "AuctionProceeds",
    "BadDebtWrittenOff",
    "AutoDeleveraged",
)
DEFAULT_FEE_POLICY = FeePolicy(max_fee_cap=500 * GWEI, priority_fee=2 * GWEI)


@dataclass
class KeeperConfig:
    rpc_url: str
    record: dict[str, Any]  # deployments/<network>.json (solvent.deploy.write_record format)
    abis: dict[str, list[Any]]  # contract name -> ABI
    take_discount_bps: int = 200  # take when auction price <= oracle * (1 - discount)
    poke_interval_s: int = 300
    scan_batch: int = 500
    liquidation_gas: int = 1_500_000
    take_gas: int = 600_000
    fee_policy: FeePolicy | None = None
    reset_gas: int = 400_000
    poke_gas: int = 300_000
    approve_gas: int = 100_000
    log_range: int = 2_000  # blocks per eth_getLogs request
    full_scan_interval_blocks: int = 1_000  # safety net: `liquidatableAccounts` over every id
    rpc_retries: int = 5
    rpc_backoff_s: float = 0.1
    # A FlashTaker of the operator's (contracts/keeper/FlashTaker.sol): takes go through it and
    # sell the collateral in the same transaction, so the keeper needs no quote.
    flash_taker: str | None = None
    flash_pool_fee: int = 3_000  # the router pool's fee tier (Uniswap v3: 500, 3000, 10000)
    flash_min_profit_bps: int = 50  # the sale must yield the quote owed plus this share of it
    # "risk": lowest health first (the default); "account": by account id, the baseline the
    # throughput benchmark compares against.
    liquidation_order: str = "risk"
    # Profitability gate: a liquidation, take or reset is sent only if its simulated reward (from
    # the logs of `eth_simulateV1`) covers its simulated gas at the current fee, priced in the
    # oracle's `native_asset` (the chain's gas token), plus this margin. "" turns the gate off.
    native_asset: str = "WETH"
    min_profit_margin_bps: int = 0
    settle_gas: int = 600_000  # an order's settlement (fill, funding, fees); ~130-250k used
    # Orders of one market and round settle together (`settleOrders`): the round check and the
    # market's, engine's and oracle's slots are paid once, ~100k per further order (issue 14).
    # A batch's gas limit is `settle_gas` plus this per further order.
    settle_batch_max: int = 50
    settle_gas_per_batched_order: int = 250_000
    # Insurance fees the engine holds for the fund are swept to it (`sweepInsuranceFees`, anyone
    # may call it) at most once per interval of chain time, when at least `sweep_min_quote` quote
    # units are waiting: until then the fund cannot cover a loss with them. 0 turns sweeping off.
    sweep_interval_s: int = 3_600
    sweep_min_quote: int = 1
    sweep_gas: int = 150_000
    lp_execute_gas: int = 1_500_000  # an LP request's execution: ~310-330k with two markets, plus
    # the pool's scan for liquidatable accounts (O(accounts))
    cancel_order_gas: int = 150_000
    # Auto-deleveraging (docs/pool.md): at each check, every market's traders' PnL against the
    # pool's value without it (the reference model on the engine's views); above the trigger, the
    # model's ranked list goes to `autoDeleverage`. Gas: a bisection of ~70 steps per account.
    adl_enabled: bool = True
    # A quiet block (no engine event, no market price change) re-checks only this often: between
    # them only funding and interest accrue, which move the factor slowly.
    adl_check_interval_blocks: int = 50
    adl_gas: int = 1_000_000  # measured: ~494k with one account listed, ~568k with three
    adl_gas_per_account: int = 150_000


@dataclass
class StepReport:
    block: int
    accounts_tracked: int = 0
    checked: int = 0
    liquidatable: int = 0
    liquidations_sent: int = 0
    takes_sent: int = 0
    resets_sent: int = 0
    pokes_sent: int = 0
    skipped: int = 0  # dropped after a failed simulation (e.g. a competitor acted first)
    mined: int = 0
    competitor: int = 0  # our transactions reverted on chain: someone else acted first
    reverted: int = 0  # reverted for another reason: stale, out of gas, other
    unprofitable: int = 0  # not sent: the simulated reward does not cover the gas
    latencies: list[int] = field(default_factory=list)  # liquidations mined, in blocks
    orders_pending: int = 0
    settlements_sent: int = 0
    order_cancels_sent: int = 0
    sweeps_sent: int = 0
    settlements_mined: int = 0
    # settlements mined: blocks from the first block in which the order's price existed
    settle_latencies: list[int] = field(default_factory=list)
    adl_sent: int = 0  # autoDeleverage calls sent (at most one a step)


@dataclass
class _Action:
    kind: str  # liquidation, take, reset, start_queued, poke, approve, settle, cancel_order, adl
    key: Any  # account id, auction id or asset; a settlement's: the tuple of its order ids
    request: TxRequest


class Keeper:
    def __init__(
        self,
        config: KeeperConfig,
        signer: Signer,
        rpc: RpcClient | None = None,
        metrics: KeeperMetrics | None = None,
    ) -> None:
        if config.liquidation_order not in ("risk", "account"):
            raise ValueError(f"liquidation_order {config.liquidation_order!r}: risk or account")
        self.config = config
        self.signer = signer
        self.me = signer.address
        self.rpc = rpc or RpcClient(
            config.rpc_url, timeout_s=10, retries=config.rpc_retries, backoff_s=config.rpc_backoff_s
        )
        self.metrics = metrics or KeeperMetrics()
        a = config.record["addresses"]
        self.engine = ContractCodec(config.abis["MarginEngine"], a["engine"])
        self.views = ContractCodec(config.abis["MarginEngineExtension"], a["engine"])
        self.liquidator = ContractCodec(config.abis["DutchAuctionLiquidator"], a["liquidator"])
        self.oracle = ContractCodec(config.abis["OracleAdapter"], a["oracle"])
        self.quote = ContractCodec(config.abis["MockERC20"], a["quote"])
        self.flash = (
            ContractCodec(config.abis["FlashTaker"], config.flash_taker)
            if config.flash_taker
            else None
        )
        symbols = sorted(name.split(".", 1)[1] for name in a if name.startswith("token."))
        self.assets = {s: a[f"token.{s}"].lower() for s in symbols}
        self.market_assets = {
            int(i): self.assets[s] for s, i in config.record["market_ids"].items()
        }
        self.deploy_block = int(config.record["deploy_block"])
        # The order book and each market's primary feed (the feed the book settles on), when the
        # deployment has one.
        self.book = (
            ContractCodec(config.abis["OrderBook"], a["order_book"])
            if "order_book" in a and "OrderBook" in config.abis
            else None
        )
        self.order_feeds = {
            int(i): ContractCodec(AGGREGATOR_ABI, a[f"feed.{s}"])
            for s, i in config.record["market_ids"].items()
            if self.book is not None and f"feed.{s}" in a
        }
        # The LP pool, whose deposit and redeem requests the keeper executes (docs/pool.md).
        self.lp_pool = (
            ContractCodec(config.abis["LPPool"], a["lp_pool"])
            if "lp_pool" in a and "LPPool" in config.abis and self.book is not None
            else None
        )
        # The insurance fund: its assets cover debt under auction in the pool's value (ADL).
        self.fund = (
            ContractCodec(config.abis["InsuranceFund"], a["insurance_fund"])
            if "insurance_fund" in a and "InsuranceFund" in config.abis
            else None
        )
        self._positions = {
            (event, "accountId"): self.engine.indexed_position(event, "accountId")
            for event in ACCOUNT_EVENTS
        }
        self._positions[("Traded", "marketId")] = self.engine.indexed_position("Traded", "marketId")
        self._positions[("Deposited", "token")] = self.engine.indexed_position("Deposited", "token")
        chain_id = int(self.rpc.call("eth_chainId"), 16)
        self.txm = TxManager(self.rpc, signer, chain_id, config.fee_policy or DEFAULT_FEE_POLICY)
        self.mined_blocks: list[tuple[int, str, str]] = []  # (block, hash, kind) of mined actions
        self.gate_on = True  # the profitability gate, until the node lacks eth_simulateV1
        self.base_fee = 0
        self.wad_per_quote = 10**12
        self._reset_state()

    # ------------------------------------------------------------------ state

    def _reset_state(self) -> None:
        self.accounts: set[int] = set()
        self.exposure: dict[str, set[int]] = {asset: set() for asset in self.assets.values()}
        self.dirty: set[int] = set()  # accounts whose health must be read again
        self.breached: set[int] = set()  # read below 1 and not read healthy since
        self.last_health: dict[int, int] = {}  # the latest health read of each account (WAD)
        self.stepped_at: int | None = None  # head of the last step that ended
        self.unseen_from = 0  # first block the current step sees for the first time
        self.first_liquidatable: dict[int, int] = {}
        self.pending: dict[tuple[str, Any], PendingTx] = {}
        self.foreign: dict[tuple[str, Any], int] = {}  # in flight before a restart: key -> nonce
        self.prices: dict[str, int | None] = {}
        self.last_poke: dict[str, int] = {}
        self.last_sweep_check = 0  # chain time of the last look at the fees waiting for the fund
        self.last_block = self.deploy_block - 1
        self.last_hash: str | None = None
        self.last_full_scan = 0
        self.approved = False
        self.token_scale: dict[str, int] = {}
        self.auction_tokens: dict[int, str] = {}
        self.order_index = OrderIndex()
        self.first_priced: dict[int, int] = {}  # order id -> first block its price existed in
        # Orders of a batch whose simulation failed: settled one per call from then on, so one
        # order the book refuses cannot hold back the others.
        self.settle_alone: set[int] = set()
        self.lp_index = LPRequestIndex()
        # Auto-deleveraging: the market prices and block of the last check, and whether an engine
        # event since then may have moved a market's books or the pool's ledger.
        self.adl_prices: dict[int, int | None] | None = None
        self.adl_checked_at = 0
        self.adl_books_moved = True

    def sync(self) -> None:
        """Rebuilds the account index from the engine's logs since the deployment block and adopts
        our own transactions still in the node's pool, so a restart never acts twice."""
        self._reset_state()
        self.txm.resync()
        head = self.rpc.call("eth_getBlockByNumber", "latest", False)
        head_number = int(head["number"], 16)
        self._index_logs(self.deploy_block, head_number)
        self.dirty = set(self.accounts)
        self.last_block, self.last_hash = head_number, head["hash"]
        self.last_full_scan = head_number
        self._read_static()
        self._adopt_in_flight()
        log("keeper.synced", block=head_number, accounts=len(self.accounts), me=self.me)
        self.metrics.accounts_tracked.set(len(self.accounts))

    def _read_static(self) -> None:
        tokens = list(self.assets.values())
        calls = [self._call(self.quote.address, self.quote.encode("decimals"))]
        calls += [self._call(t, self.quote.encode("decimals")) for t in tokens]
        calls.append(
            self._call(self.quote.address, self.quote.encode("allowance", self.me, self._liq()))
        )
        markets = sorted(self.order_feeds) if self.book is not None else []
        if self.book is not None:
            calls += [
                self._call(self.book.address, self.book.encode("marketOrders", m)) for m in markets
            ]
        answers = self.rpc.batch(calls)
        for market, answer in zip(markets, answers[len(answers) - len(markets) :], strict=True):
            stored = self.book.decode("marketOrders", answer)[0] if self.book else None
            if stored is not None and int(stored[0], 16) != 0:  # the market is open for orders
                self.order_index.windows[market] = int(stored[2])
        answers = answers[: len(answers) - len(markets)]
        quote_decimals = self.quote.decode("decimals", answers[0])[0]
        self.wad_per_quote = 10 ** (18 - quote_decimals)
        for token, answer in zip(tokens, answers[1:-1], strict=True):
            decimals = self.quote.decode("decimals", answer)[0]
            self.token_scale[token] = 10 ** (decimals + 18 - quote_decimals)
        self.approved = self.quote.decode("allowance", answers[-1])[0] >= MAX_UINT // 2

    def _adopt_in_flight(self) -> None:
        """Our transactions a previous run left in the pool count as pending actions."""
        try:
            pool = self.rpc.call("txpool_content")
        except RpcError:
            return
        for section in ("pending", "queued"):
            for sender, txs in (pool.get(section) or {}).items():
                if sender.lower() != self.me.lower():
                    continue
                for nonce, tx in txs.items():
                    key = self._action_key(tx.get("to") or "", tx.get("input") or "0x")
                    if key is not None:
                        self.foreign[key] = int(nonce)
                        if key[0] == "approve":
                            self.approved = True
        if self.foreign:
            log("keeper.adopted_in_flight", actions=len(self.foreign))

    def _action_key(self, to: str, data: str) -> tuple[str, Any] | None:
        to = to.lower()
        if to == self.engine.address.lower():
            decoded = self.engine.decode_input(data)
            if decoded and decoded[0] == "liquidate":
                return ("liquidation", int(decoded[1]["accountId"]))
            if decoded and decoded[0] == "autoDeleverage":
                return ("adl", adl_keeper.decode_call(data)[0])
            decoded = self.views.decode_input(data)
            if decoded and decoded[0] == "sweepInsuranceFees":
                return ("sweep", "insurance_fees")
        if to == self._liq().lower():
            decoded = self.liquidator.decode_input(data)
            if decoded and decoded[0] in ("take", "reset"):
                return (decoded[0], int(decoded[1]["id"]))
        if to == self.oracle.address.lower():
            decoded = self.oracle.decode_input(data)
            if decoded and decoded[0] == "poke":
                return ("poke", str(decoded[1]["asset"]).lower())
        if self.book is not None and to == self.book.address.lower():
            decoded = self.book.decode_input(data)
            if decoded and decoded[0] == "settleOrder":
                return ("settle", (int(decoded[1]["orderId"]),))
            if decoded and decoded[0] == "settleOrders":
                return ("settle", tuple(int(oid) for oid in decoded[1]["orderIds"]))
            if decoded and decoded[0] == "cancelOrder":
                return ("cancel_order", int(decoded[1]["orderId"]))
        if self.flash is not None and to == self.flash.address.lower():
            decoded = self.flash.decode_input(data)
            if decoded and decoded[0] == "take":
                return ("take", int(decoded[1]["id"]))
        if to == self.quote.address.lower():
            return ("approve", None)
        return None

    # ------------------------------------------------------------------ the loop

    def run(self, stop: threading.Event, poll_interval_s: float = 0.2) -> None:
        """Steps at every new head until `stop` is set; RPC outages are waited out, never fatal.
        Between heads it asks only `eth_blockNumber`, once per poll: a quiet chain costs one
        call per poll, and the step's reads are spent once per block."""
        synced = False
        failing: str | None = None  # the repeated failure's text: its traceback is logged once
        repeats = 0
        while not stop.is_set():
            try:
                if not synced:
                    self.sync()
                    synced = True
                if self._new_head() or failing is not None:
                    self.step()
            except (RpcUnavailable, RpcError) as exc:
                self.metrics.rpc_errors.inc()
                self.metrics.step_failures.labels("rpc").inc()
                log("keeper.rpc_error", logging.WARNING, error=str(exc))
                stop.wait(max(poll_interval_s, 1.0))
                continue
            except Exception as exc:  # a keeper that stops on a surprise lets accounts go
                self.metrics.step_failures.labels("error").inc()
                if repr(exc) != failing:
                    failing, repeats = repr(exc), 0
                    logging.getLogger(LOGGER_NAME).exception("keeper.step_failed")
                else:
                    repeats += 1
                    log("keeper.step_failed_again", logging.ERROR, error=failing, repeats=repeats)
                stop.wait(max(poll_interval_s, 1.0))
                continue
            if failing is not None:
                log("keeper.step_recovered", after_failures=repeats + 1)
                failing = None
            stop.wait(poll_interval_s)

    def _new_head(self) -> bool:
        return int(self.rpc.call("eth_blockNumber"), 16) != self.stepped_at

    def step(self) -> StepReport:
        """One pass at the current head."""
        if self.last_hash is None:
            self.sync()
        assets = list(self.assets.values())
        markets = sorted(self.order_feeds)
        answers = self.rpc.batch_results(
            [
                ("eth_getBlockByNumber", ["latest", False]),
                ("eth_getBlockByNumber", [hex(max(self.last_block, 0)), False]),
                ("eth_getTransactionCount", [self.me, "latest"]),
                self._call(self._liq(), self.liquidator.encode("activeAuctionIds")),
                ("eth_getBalance", [self.me, "latest"]),
                self._call(self.quote.address, self.quote.encode("balanceOf", self.me)),
                self._call(self._liq(), self.liquidator.encode("queuedLotIds")),
                *(self._call(self.oracle.address, self.oracle.encode("price", a)) for a in assets),
                *(
                    self._call(
                        self.order_feeds[m].address, self.order_feeds[m].encode("latestRoundData")
                    )
                    for m in markets
                ),
            ]
        )
        for answer in answers[:READS]:
            if isinstance(answer, RpcError):
                raise answer
        head, previous, nonce_hex, auctions_hex, gas_hex, balance_hex, queued_hex = answers[:READS]
        self.metrics.signer_balance.set(int(gas_hex, 16) / 10**18)
        if previous is None or previous["hash"] != self.last_hash:
            log("keeper.chain_rewound", logging.WARNING, last_block=self.last_block)
            self._count_rewound()
            self.sync()
            return self.step()
        block = int(head["number"], 16)
        self.base_fee = int(head.get("baseFeePerGas", "0x0"), 16)
        report = StepReport(block=block)
        self._forget_settled_foreign(int(nonce_hex, 16))
        # A breach found now happened in a block this keeper had not yet seen: latency counts
        # from the first of them (the update's block when the keeper kept up; an upper bound
        # after an outage, never an under-statement).
        self.unseen_from = min(self.last_block + 1, block)
        if block > self.last_block:
            self._index_logs(self.last_block + 1, block)
            self.last_block, self.last_hash = block, head["hash"]
        self._note_prices(assets, answers[READS : READS + len(assets)])
        self._settle(self.txm.poll(), report)
        latest_rounds = self._latest_rounds(markets, answers[READS + len(assets) :])

        actions = self._liquidations(block, report)
        auction_ids = self.liquidator.decode("activeAuctionIds", auctions_hex)[0]
        budget = self.quote.decode("balanceOf", balance_hex)[0]
        actions += self._auction_actions(list(auction_ids), budget)
        actions += self._queued_starts(list(self.liquidator.decode("queuedLotIds", queued_hex)[0]))
        actions += self._pokes(int(head["timestamp"], 16))
        actions += self._sweeps(int(head["timestamp"], 16))
        actions += self._order_actions(int(head["timestamp"], 16), latest_rounds)
        actions += self._lp_actions(int(head["timestamp"], 16), latest_rounds)
        actions += self._adl_actions(block, int(head["timestamp"], 16))
        report.orders_pending = len(self.order_index.pending)
        if not self.approved:
            actions.insert(0, self._approve_action())
        self._send(actions, report)
        report.accounts_tracked = len(self.accounts)
        self.metrics.accounts_tracked.set(len(self.accounts))
        self.metrics.breached_pending.set(len(self.breached))
        self.metrics.orders_pending.set(len(self.order_index.pending))
        self.stepped_at = block
        self.metrics.last_processed_block.set(block)
        self.metrics.last_step_timestamp.set(time.time())
        return report

    # ------------------------------------------------------------------ index

    def _index_logs(self, from_block: int, to_block: int) -> None:
        topics = [[self.engine.topic(name) for name in ACCOUNT_EVENTS]]
        start = max(from_block, 0)
        ranges = []
        while start <= to_block:
            end = min(start + self.config.log_range - 1, to_block)
            ranges.append((start, end))
            start = end + 1
        queries = [(self.engine.address, topics)]
        if self.book is not None:
            queries.append((self.book.address, [[self.book.topic(name) for name in ORDER_EVENTS]]))
        if self.lp_pool is not None:
            topics_lp = [[self.lp_pool.topic(name) for name in LP_EVENTS]]
            queries.append((self.lp_pool.address, topics_lp))
        results = self.rpc.batch(
            (
                "eth_getLogs",
                [{"address": address, "fromBlock": hex(a), "toBlock": hex(b), "topics": t}],
            )
            for address, t in queries
            for a, b in ranges
        )
        for logs in results[: len(ranges)]:
            for item in logs:
                self._index_log(item)
        book_end = 2 * len(ranges) if self.book is not None else len(ranges)
        for logs in results[len(ranges) : book_end]:
            for item in logs:
                self._index_order_log(item)
        for logs in results[book_end:]:
            for item in logs:
                self._index_lp_log(item)

    def _index_lp_log(self, item: dict[str, Any]) -> None:
        """The LP pool's request events, in chain order (a request's target time is its block's
        timestamp + the pool's delay)."""
        assert self.lp_pool is not None
        decoded = self.lp_pool.decode_log(item)
        if decoded is None:
            return
        timestamp = 0
        if decoded.name in ("DepositRequest", "RedeemRequest"):
            timestamp = self._timestamp(int(item["blockNumber"], 16))
        self.lp_index.apply(decoded.name, decoded.args, timestamp)

    def _index_log(self, item: dict[str, Any]) -> None:
        """Every field the index needs is an indexed argument: read from the topics (at the
        positions the event ABIs give), no data decoding, so 30,000 logs index in a blink."""
        topics = item["topics"]
        name = self.engine.topics.get(topics[0]) if topics else None
        if name is None:
            return
        account = int(topics[self._positions[(name, "accountId")]], 16)
        self.adl_books_moved = True
        self.accounts.add(account)
        self.dirty.add(account)
        if name == "Traded":
            market = int(topics[self._positions[("Traded", "marketId")]], 16)
            asset = self.market_assets.get(market)
            if asset is not None:
                self.exposure[asset].add(account)
        elif name == "Deposited":
            token = "0x" + topics[self._positions[("Deposited", "token")]][-40:].lower()
            if token in self.exposure:
                self.exposure[token].add(account)

    def _index_order_log(self, item: dict[str, Any]) -> None:
        """The order book's events, in chain order: a commit adds a pending order (a commit that
        replaces an expired one comes after that one's `OrderCancelled`), a settlement or a
        cancellation removes it, a market's new configuration updates its window."""
        assert self.book is not None
        decoded = self.book.decode_log(item)
        if decoded is None:
            return
        args = decoded.args
        if decoded.name == "OrderCommitted":
            oid = int(args["orderId"])
            self.order_index.committed(
                PendingOrder(
                    oid,
                    int(args["accountId"]),
                    int(args["marketId"]),
                    int(args["targetTime"]),
                    int(item["blockNumber"], 16),
                )
            )
            self.first_priced.pop(oid, None)
        elif decoded.name in ("OrderSettled", "OrderCancelled"):
            self.order_index.closed(int(args["orderId"]))
        elif decoded.name == "MarketOrdersSet":
            config = args["config"]
            window = config["settlementWindow"] if isinstance(config, dict) else config[1]
            self.order_index.windows[int(args["marketId"])] = int(window)

    def _note_prices(self, assets: list[str], answers: list[Any]) -> None:
        for asset, answer in zip(assets, answers, strict=True):
            price = None if isinstance(answer, RpcError) else self.oracle.decode("price", answer)[0]
            if price != self.prices.get(asset, -1):
                self.dirty |= self.exposure[asset]
            self.prices[asset] = price

    # ------------------------------------------------------------------ liquidations

    def _liquidations(self, block: int, report: StepReport) -> list[_Action]:
        candidates = self._unhealthy(block, report)
        if block - self.last_full_scan >= self.config.full_scan_interval_blocks:
            found = self.liquidatable_ids()
            self.breached |= found
            candidates |= found
            self.last_full_scan = block
        for account in candidates:
            self.first_liquidatable.setdefault(account, self.unseen_from)
        report.liquidatable = len(candidates)
        # Most at risk first: when a crash breaches more accounts than a block holds, the deepest
        # go in the first blocks (nonce order is inclusion order). Unknown health (found by the
        # full scan only) counts as 0.
        by_risk = self.config.liquidation_order == "risk"
        fresh = sorted(
            (a for a in candidates if not self._busy(("liquidation", a))),
            key=lambda a: (self.last_health.get(a, 0) if by_risk else 0, a),
        )
        return [
            _Action(
                "liquidation",
                account,
                TxRequest(
                    self.engine.address,
                    self.engine.encode("liquidate", account, self.me),
                    self.config.liquidation_gas,
                    label=f"liquidate:{account}",
                ),
            )
            for account in fresh
        ]

    def _unhealthy(self, block: int, report: StepReport) -> set[int]:
        """Accounts to liquidate: every breached account not yet seen healthy again. An account
        leaves `dirty` only once its health was read, and `breached` only once it reads healthy,
        so a step that fails anywhere (the scan's call, a later read, the send) loses nothing: the
        next step starts from the same work."""
        ids = sorted(self.dirty)
        report.checked = len(ids)
        healths = self.health_of(ids)
        # A chunk that failed (e.g. an oracle that cannot price) stays dirty for the next step.
        self.dirty.difference_update(healths)
        self.last_health.update(healths)
        unhealthy = {a for a, health in healths.items() if health < WAD}
        for account in healths.keys() - unhealthy:
            self.first_liquidatable.pop(account, None)
            self.breached.discard(account)
        self.breached |= unhealthy
        return set(self.breached)

    def health_of(self, ids: list[int]) -> dict[int, int]:
        """Maintenance health (WAD) of `ids`: `healthOf` over chunks of `scan_batch`, all chunks in
        one JSON-RPC batch; ids of a chunk whose call failed are left out."""
        size = self.config.scan_batch
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        selector = self.views.selector("healthOf")
        answers = self.rpc.batch_results(
            self._call(self.views.address, encode_uint_array_call(selector, chunk))
            for chunk in chunks
        )
        healths: dict[int, int] = {}
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, RpcError):
                log("keeper.health_failed", logging.WARNING, error=answer.message)
                continue
            for account, health in zip(
                chunk, decode_static_tuple_array(answer, HEALTH_FIELDS), strict=True
            ):
                healths[account] = health[HEALTH_FIELDS - 1]
        return healths

    def liquidatable_ids(self) -> set[int]:
        """`liquidatableAccounts` over every id up to the highest indexed one, in `scan_batch`
        ranges, one JSON-RPC batch: the safety net that needs no index."""
        top = max(self.accounts, default=0)
        step = self.config.scan_batch
        ranges = [(lo, min(lo + step - 1, top)) for lo in range(1, top + 1, step)]
        answers = self.rpc.batch(
            self._call(self.views.address, self.views.encode("liquidatableAccounts", lo, hi))
            for lo, hi in ranges
        )
        found: set[int] = set()
        for answer in answers:
            found.update(int(i) for i in self.views.decode("liquidatableAccounts", answer)[0])
        return found

    # ------------------------------------------------------------------ auctions and pokes

    def _auction_actions(self, ids: list[int], budget: int) -> list[_Action]:
        ids = [i for i in ids if not self._busy(("take", i)) and not self._busy(("reset", i))]
        answers = self.rpc.batch(
            self._call(self._liq(), self.liquidator.encode("status", i)) for i in ids
        )
        actions = []
        discount = BPS - self.config.take_discount_bps
        for auction_id, answer in zip(ids, answers, strict=True):
            active, needs_reset, _, token, lot, tab, _, price, _, _ = self.liquidator.decode(
                "status", answer
            )[0]
            if not active:
                continue
            if needs_reset:
                data = self.liquidator.encode("reset", auction_id, self.me)
                request = TxRequest(self._liq(), data, self.config.reset_gas, f"reset:{auction_id}")
                actions.append(_Action("reset", auction_id, request))
                continue
            oracle = self.prices.get(str(token).lower())
            if oracle is None or price == 0 or price * BPS > oracle * discount:
                continue
            scale = self.token_scale[str(token).lower()]
            cost = min(tab, -(-lot * price // scale))
            self.auction_tokens[auction_id] = str(token).lower()
            if self.flash is not None:  # the sale pays: no quote of ours is needed
                request = self._flash_take(auction_id, lot, price, str(token), cost)
                actions.append(_Action("take", auction_id, request))
                continue
            amount = lot if cost <= budget else budget * scale // price
            if amount == 0:
                continue
            budget -= min(cost, budget)
            data = self.liquidator.encode("take", auction_id, amount, price, self.me, b"")
            request = TxRequest(self._liq(), data, self.config.take_gas, f"take:{auction_id}")
            actions.append(_Action("take", auction_id, request))
        return actions

    def _flash_take(
        self, auction_id: int, lot: int, price: int, token: str, cost: int
    ) -> TxRequest:
        """A take through the operator's FlashTaker: it reverts unless the router pays the quote
        owed plus `flash_min_profit_bps` of it, so the simulation drops an unprofitable sale."""
        assert self.flash is not None
        min_profit = cost * self.config.flash_min_profit_bps // BPS
        fee = self.config.flash_pool_fee
        data = self.flash.encode("take", auction_id, lot, price, token, fee, min_profit)
        return TxRequest(self.flash.address, data, self.config.take_gas, f"take:{auction_id}")

    def _queued_starts(self, queue_ids: list[int]) -> list[_Action]:
        """Lots waiting for room under the caps: `startQueued` for each one that can start now.
        A pre-check (one batched eth_call) keeps lots without room from being logged as failed
        simulations at every step."""
        ids = [q for q in queue_ids if not self._busy(("start_queued", q))]
        data = {q: self.liquidator.encode("startQueued", q) for q in ids}
        answers = self.rpc.batch_results(self._call(self._liq(), data[q]) for q in ids)
        return [
            _Action(
                "start_queued",
                q,
                TxRequest(self._liq(), data[q], self.config.reset_gas, f"start_queued:{q}"),
            )
            for q, answer in zip(ids, answers, strict=True)
            if not isinstance(answer, RpcError)
        ]

    def _pokes(self, timestamp: int) -> list[_Action]:
        actions = []
        for asset in self.assets.values():
            if timestamp - self.last_poke.get(asset, 0) < self.config.poke_interval_s:
                continue
            if self._busy(("poke", asset)):
                continue
            data = self.oracle.encode("poke", asset)
            request = TxRequest(self.oracle.address, data, self.config.poke_gas, f"poke:{asset}")
            actions.append(_Action("poke", asset, request))
        return actions

    def _sweeps(self, timestamp: int) -> list[_Action]:
        """Sweeps the insurance fees to the fund once per `sweep_interval_s` when enough wait."""
        interval = self.config.sweep_interval_s
        if interval <= 0 or timestamp - self.last_sweep_check < interval:
            return []
        if self._busy(("sweep", "insurance_fees")):
            return []
        self.last_sweep_check = timestamp
        method, params = self._call(self.views.address, self.views.encode("ledger"))
        waiting = int(self.views.named("ledger", self.rpc.call(method, *params)).insuranceFees)
        if waiting < max(self.config.sweep_min_quote, 1):
            return []
        data = self.views.encode("sweepInsuranceFees")
        request = TxRequest(self.views.address, data, self.config.sweep_gas, "sweep")
        return [_Action("sweep", "insurance_fees", request)]

    # ------------------------------------------------------------------ orders

    def _latest_rounds(self, markets: list[int], answers: list[Any]) -> dict[int, Round | None]:
        rounds: dict[int, Round | None] = {}
        for market, answer in zip(markets, answers, strict=True):
            if isinstance(answer, RpcError):
                rounds[market] = None
                continue
            rid, _, _, updated_at, _ = self.order_feeds[market].decode("latestRoundData", answer)
            rounds[market] = Round(int(rid), int(updated_at))
        return rounds

    def _order_actions(self, timestamp: int, latest: dict[int, Round | None]) -> list[_Action]:
        """Settlements for every pending order whose price exists, batched by market and
        determining round (found once per market and target time; `settleOrders`, at most
        `settle_batch_max` orders a call), a cancellation for every expired one."""
        if self.book is None:
            return []
        priced, expired = self.order_index.due(timestamp, latest)
        self.settle_alone &= set(self.order_index.pending)
        settling = self._settling()
        priced = [o for o in priced if o.order_id not in settling]
        by_market: dict[int, set[int]] = {}
        for order in priced:
            by_market.setdefault(order.market_id, set()).add(order.target_time)
            self.first_priced.setdefault(order.order_id, self.unseen_from)
        rounds = {
            market: self._determining_rounds(market, latest[market], targets)
            for market, targets in by_market.items()
            if latest.get(market) is not None
        }
        batches: dict[tuple[int, int], list[int]] = {}
        alone: list[tuple[int, list[int]]] = []
        for order in priced:
            rid = rounds.get(order.market_id, {}).get(order.target_time)
            if rid is None:
                continue
            if order.order_id in self.settle_alone:
                alone.append((rid, [order.order_id]))
            else:
                batches.setdefault((order.market_id, rid), []).append(order.order_id)
        chunk = max(self.config.settle_batch_max, 1)
        groups = alone + [
            (rid, oids[i : i + chunk])
            for (_, rid), oids in sorted(batches.items())
            for i in range(0, len(oids), chunk)
        ]
        actions = [self._settle_action(oids, rid) for rid, oids in groups]
        for order in expired:
            if self._busy(("cancel_order", order.order_id)):
                continue
            data = self.book.encode("cancelOrder", order.order_id)
            request = TxRequest(
                self.book.address, data, self.config.cancel_order_gas, f"cancel:{order.order_id}"
            )
            actions.append(_Action("cancel_order", order.order_id, request))
        return actions

    def _settle_action(self, oids: list[int], rid: int) -> _Action:
        assert self.book is not None
        data = self.book.encode("settleOrders", oids, rid)
        gas = self.config.settle_gas + self.config.settle_gas_per_batched_order * (len(oids) - 1)
        label = f"settle:{oids[0]}" + (f"+{len(oids) - 1}" if len(oids) > 1 else "")
        return _Action("settle", tuple(oids), TxRequest(self.book.address, data, gas, label))

    def _settling(self) -> set[int]:
        """Order ids in a settlement of ours (or adopted) that has not ended yet."""
        return {
            oid for kind, key in (*self.pending, *self.foreign) if kind == "settle" for oid in key
        }

    # ------------------------------------------------------------------ LP requests

    def _lp_actions(self, timestamp: int, latest: dict[int, Round | None]) -> list[_Action]:
        """An execution for every LP request whose rounds exist in every market (named by each
        market's determining round for the request's target time), a cancellation for every
        expired one."""
        if self.lp_pool is None:
            return []
        markets = sorted(self.order_feeds)
        executable, expired = self.lp_index.due(timestamp, latest, markets)
        executable = [r for r in executable if not self._busy(("lp_execute", r.key))]
        targets = {r.target_time for r in executable}
        rounds = {m: self._determining_rounds(m, latest[m], targets) for m in markets}
        actions = []
        for request in executable:
            ids = [rounds[m].get(request.target_time) for m in markets]
            if any(rid is None for rid in ids):
                continue
            actions.append(self._lp_action(request, "lp_execute", ids))
        for request in expired:
            if not self._busy(("lp_cancel", request.key)):
                actions.append(self._lp_action(request, "lp_cancel", None))
        return actions

    def _lp_action(self, request: PendingRequest, kind: str, ids: list[int] | None) -> _Action:
        assert self.lp_pool is not None
        if ids is None:
            data = self.lp_pool.encode("cancelRequest", request.controller, request.deposit)
        else:
            fn = "executeDeposit" if request.deposit else "executeRedeem"
            data = self.lp_pool.encode(fn, request.controller, ids)
        label = f"{kind}:{request.controller}:{'deposit' if request.deposit else 'redeem'}"
        tx = TxRequest(self.lp_pool.address, data, self.config.lp_execute_gas, label)
        return _Action(kind, request.key, tx)

    def _determining_rounds(
        self, market: int, latest: Round | None, targets: set[int]
    ) -> dict[int, int]:
        """Target time -> the round that settles orders with it, walking the market's feed back
        from its latest round (one batched request per walk step, usually one in all)."""
        if latest is None:
            return {}
        feed = self.order_feeds[market]

        def fetch(ids: list[int]) -> dict[int, int]:
            answers = self.rpc.batch_results(
                self._call(feed.address, feed.encode("getRoundData", i)) for i in ids
            )
            return {
                i: int(feed.decode("getRoundData", answer)[3])
                for i, answer in zip(ids, answers, strict=True)
                if not isinstance(answer, RpcError)
            }

        def phase_last(phase: int) -> Round | None:
            try:
                aggregator = feed.decode(
                    "phaseAggregators",
                    self.rpc.call(
                        *self._call(feed.address, feed.encode("phaseAggregators", phase))
                    ),
                )[0]
                if int(aggregator, 16) == 0:
                    return None
                raw = self.rpc.call(*self._call(aggregator, feed.encode("latestRoundData")))
            except RpcError:
                return None  # not a proxy (no phases), or the phase's aggregator is gone
            rid, _, _, updated_at, _ = feed.decode("latestRoundData", raw)
            if int(updated_at) == 0:
                return None
            return Round(round_id(phase, parse_round_id(int(rid))[1]), int(updated_at))

        return determining_rounds(latest, targets, fetch, phase_last)

    # ------------------------------------------------------------------ auto-deleveraging

    def _adl_actions(self, block: int, timestamp: int) -> list[_Action]:
        """`autoDeleverage` for one market when the pool's factor (every market's traders' profit
        over the pool's value without it) is above the trigger, or above the target while a
        residual shortfall remains or an earlier run ended above it (`armed`). The market is the
        one with the largest traders' PnL whose plan lists an account; the next check continues
        on the next market while the run left the pool armed. Computed by the reference model
        from the head's views (one batch for the pool and every market; the positions and
        equities of a candidate market's traders only when ADL is due). Checked when a market's
        price moved or an engine event was indexed since the last check, and every
        `adl_check_interval_blocks` otherwise; not while a run is pending (the next one depends
        on where it ends)."""
        markets = sorted(self.market_assets)
        if not self.config.adl_enabled or not markets:
            return []
        if any(self._busy(("adl", m)) for m in markets):
            return []
        prices = {m: self.prices.get(a) for m, a in self.market_assets.items()}
        if (
            prices == self.adl_prices
            and not self.adl_books_moved
            and block - self.adl_checked_at < self.config.adl_check_interval_blocks
        ):
            return []
        views = self.views
        answers = self.rpc.batch(
            [
                self._call(views.address, views.encode("ledger")),
                self._call(views.address, views.encode("borrowState")),
                self._call(self.engine.address, self.engine.encode("adlParams")),
                *(self._call(views.address, views.encode("markets", m)) for m in markets),
            ]
        )
        ledger = views.named("ledger", answers[0])
        insurance = 0
        if int(ledger.debtInAuction) and self.fund is not None:
            [raw] = self.rpc.batch([self._call(self.fund.address, self.fund.encode("totalAssets"))])
            insurance = int(self.fund.decode("totalAssets", raw)[0])
        pool = adl_keeper.snapshot(
            ledger,
            views.named("borrowState", answers[1]),
            self.engine.named("adlParams", answers[2]),
            insurance,
        )
        stored = {
            m: views.named("markets", raw) for m, raw in zip(markets, answers[3:], strict=True)
        }
        books = adl_keeper.books(stored, prices, timestamp)
        actions = []
        if books is None:
            log("keeper.adl_unpriced")  # the run would revert reading a market's price
        for due in adl_keeper.candidates(books or {}, pool):
            listed = self._adl_list(due, pool)
            if not listed:
                log("keeper.adl_nothing_to_cut", market=due.market)
                continue
            data = self.engine.encode("autoDeleverage", due.market, listed)
            gas = self.config.adl_gas + self.config.adl_gas_per_account * (len(listed) - 1)
            request = TxRequest(self.engine.address, data, gas, f"adl:{due.market}")
            actions.append(_Action("adl", due.market, request))
            log("keeper.adl_due", market=due.market, factor=due.factor, accounts=listed)
            break  # one run a step: the next market's plan depends on where this one ends
        # Recorded once every read succeeded: a step cut short checks again at the next one.
        self.adl_prices, self.adl_checked_at, self.adl_books_moved = prices, block, False
        return actions

    def _adl_list(self, due: adl_keeper.Due, pool: adl_keeper.AdlSnapshot) -> list[int]:
        """The model's list for a due market: the positions of every account that traded it,
        the equity (`healthOf`) of those that hold one."""
        market = due.market
        traders = sorted(self.exposure[self.market_assets[market]])
        answers = self.rpc.batch(
            self._call(self.views.address, self.views.encode("positions", a, market))
            for a in traders
        )
        positions = {
            a: self.views.named("positions", raw) for a, raw in zip(traders, answers, strict=True)
        }
        holders = [a for a, p in positions.items() if int(p.size)]
        if not holders:
            return []
        [raw] = self.rpc.batch(
            [self._call(self.views.address, self.views.encode("healthOf", holders))]
        )
        health = self.views.named("healthOf", raw)
        equity = {a: int(h.equity) for a, h in zip(holders, health, strict=True)}
        return adl_keeper.accounts_to_list(due, {a: positions[a] for a in holders}, equity, pool)

    def _approve_action(self) -> _Action:
        data = self.quote.encode("approve", self._liq(), MAX_UINT)
        request = TxRequest(self.quote.address, data, self.config.approve_gas, "approve")
        return _Action("approve", None, request)

    # ------------------------------------------------------------------ sending and settling

    def _send(self, actions: list[_Action], report: StepReport) -> None:
        """Simulates every action (batched eth_call from our address) and sends the survivors."""
        if not actions:
            return
        simulated = self.rpc.batch_results(
            (
                "eth_call",
                [{"from": self.me, "to": a.request.to, "data": a.request.data}, "latest"],
            )
            for a in actions
        )
        survivors = []
        for action, result in zip(actions, simulated, strict=True):
            # Direct takes need the approval sent in this same batch: their simulation cannot
            # pass before it (flash takes pay from the sale and need none).
            fails = isinstance(result, RpcError)
            awaits_approval = action.kind == "take" and self.flash is None and not self.approved
            if fails and not awaits_approval:
                report.skipped += 1
                if action.kind == "settle" and len(action.key) > 1:
                    self.settle_alone.update(action.key)  # next step: one order per call
                log(
                    "keeper.simulation_failed",
                    kind=action.kind,
                    key=action.key,
                    error=self.error_name(result),
                )
                continue
            survivors.append(action)
        survivors = self._profitable(survivors, report)
        rejected: SendRejected | None = None
        try:
            txs = self.txm.submit_many([a.request for a in survivors])
        except SendRejected as exc:  # signed and registered, refused by the node: track them
            txs, rejected = exc.txs, exc
        for action, tx in zip(survivors, txs, strict=True):
            self.pending[(action.kind, action.key)] = tx
            if action.kind == "approve":
                self.approved = True
            counter = {
                "liquidation": "liquidations_sent",
                "take": "takes_sent",
                "reset": "resets_sent",
                "poke": "pokes_sent",
                "settle": "settlements_sent",
                "cancel_order": "order_cancels_sent",
                "sweep": "sweeps_sent",
                "adl": "adl_sent",
            }.get(action.kind)
            if counter:
                count = len(action.key) if action.kind == "settle" else 1
                setattr(report, counter, getattr(report, counter) + count)
            log("keeper.sent", kind=action.kind, key=action.key, nonce=tx.nonce)
        if rejected is not None:
            raise rejected.error

    def _profitable(self, actions: list[_Action], report: StepReport) -> list[_Action]:
        """Drops the liquidations, takes and resets whose reward does not cover their gas. Each
        is simulated alone with `eth_simulateV1` (its logs give the reward the contracts would
        pay us, its gasUsed the gas); the cost is gasUsed x min(base fee + tip, fee cap) in the
        native asset, at the oracle's price. A node without `eth_simulateV1` turns the gate off
        (logged once): everything that passed simulation is sent."""
        native = self.assets.get(self.config.native_asset) if self.config.native_asset else None
        gated = [a for a in actions if a.kind in ("liquidation", "take", "reset")]
        if native is None or self.prices.get(native) is None or not gated or not self.gate_on:
            return actions
        answers = self.rpc.batch_results(
            (
                "eth_simulateV1",
                [
                    {
                        "blockStateCalls": [
                            {
                                "calls": [
                                    {"from": self.me, "to": a.request.to, "data": a.request.data}
                                ]
                            }
                        ],
                        "validation": False,
                    },
                    "latest",
                ],
            )
            for a in gated
        )
        if any(isinstance(a, RpcError) and _method_missing(a) for a in answers):
            self.gate_on = False
            log("keeper.profit_gate_off", logging.WARNING, reason="no eth_simulateV1 on the node")
            return actions
        policy = self.txm.policy
        fee = min(policy.max_fee_cap, self.base_fee + policy.priority_fee)
        native_price = self.prices[native] or 0
        dropped = set()
        for action, answer in zip(gated, answers, strict=True):
            if isinstance(answer, RpcError):
                continue  # eth_call passed: let the chain decide
            call = answer[0]["calls"][0]
            if int(call.get("status", "0x0"), 16) != 1:
                continue  # e.g. a direct take before its approval is mined: eth_call judged it
            reward = self._reward_in_logs(call.get("logs", []))
            cost = int(call["gasUsed"], 16) * fee * native_price // WAD // self.wad_per_quote
            if reward * BPS < cost * (BPS + self.config.min_profit_margin_bps):
                dropped.add(id(action))
                report.unprofitable += 1
                self.metrics.actions_unprofitable.labels(action.kind).inc()
                log(
                    "keeper.unprofitable",
                    kind=action.kind,
                    key=action.key,
                    reward=reward,
                    cost=cost,
                )
        return [a for a in actions if id(a) not in dropped]

    def _reward_in_logs(self, logs: list[dict[str, Any]]) -> int:
        """What the logs of one of our actions pay us, in quote units (takes at the oracle)."""
        reward = 0
        for item in logs:
            codecs = (
                self.engine,
                self.liquidator,
                *([self.flash] if self.flash else []),
                *([self.book] if self.book else []),
            )
            for codec in codecs:
                if item["address"].lower() != codec.address.lower():
                    continue
                decoded = codec.decode_log(item)
                if decoded is None:
                    continue
                name, args = decoded.name, decoded.args
                if name == "Liquidated" and str(args["keeper"]).lower() == self.me.lower():
                    reward += int(args["keeperReward"])
                elif name == "AuctionReset" and str(args["keeper"]).lower() == self.me.lower():
                    reward += int(args["rewardPaid"])
                elif (
                    name in ("OrderSettled", "OrderCancelled")
                    and str(args["settler"]).lower() == self.me.lower()
                ):
                    reward += int(args["settlementFee"])
                elif name == "FlashTake":
                    reward += int(args["received"]) - int(args["owe"])
                elif name == "Take" and str(args["taker"]).lower() == self.me.lower():
                    token = self.auction_tokens.get(int(args["id"]), "")
                    value = int(args["slice"]) * (self.prices.get(token) or int(args["price"]))
                    reward += value // self.token_scale.get(token, 1) - int(args["owe"])
        return reward

    def _settle(self, outcomes: list[Outcome], report: StepReport) -> None:
        by_nonce = {o.tx.nonce: o for o in outcomes}
        for key, tx in list(self.pending.items()):
            if tx.nonce in by_nonce:
                self._settled(key, by_nonce[tx.nonce], report)
                del self.pending[key]
            elif tx.nonce not in self.txm.pending:
                # Its nonce was consumed without a receipt we know of (a transaction of ours from
                # before a restart took it): re-check from chain state.
                del self.pending[key]
                log("keeper.settled", kind=key[0], key=key[1], outcome="dropped", nonce=tx.nonce)
                self.metrics.actions_dropped.labels(key[0]).inc()
                if key[0] == "liquidation":
                    self.dirty.add(key[1])

    def _settled(self, key: tuple[str, Any], outcome: Outcome, report: StepReport) -> None:
        """Every action ends here exactly once, with one terminal log line and one metric:
        `mined`, `dropped` (cancelled before a re-broadcast: its simulation failed), or a revert
        class: `competitor`, `stale`, `out_of_gas`, `other` (see `_revert_class`)."""
        kind, subject = key
        mined_at = int(outcome.receipt["blockNumber"], 16)
        error = None
        if outcome.tx.cancelled:
            result = "dropped"
            if kind == "liquidation":
                self.dirty.add(subject)
        elif outcome.succeeded:
            result = "mined"
            report.mined += 1
            self.mined_blocks.append((mined_at, outcome.receipt["blockHash"], kind))
            del self.mined_blocks[:-REWIND_MEMORY]
        else:
            result, error = self._revert_class(kind, subject, outcome)
            if result == "competitor":
                report.competitor += 1
            else:
                report.reverted += 1
        log("keeper.settled", kind=kind, key=subject, outcome=result, block=mined_at, error=error)
        if result == "dropped":
            self.metrics.actions_dropped.labels(kind).inc()
            return
        if kind == "liquidation":
            self.metrics.liquidations.labels(result).inc()
            self.dirty.add(subject)
            first = self.first_liquidatable.pop(subject, None)
            if outcome.succeeded and first is not None:
                report.latencies.append(mined_at - first)
                self.metrics.reaction_latency_blocks.observe(mined_at - first)
            self._add_profit(outcome)
        elif kind == "take":
            self.metrics.takes.labels(result).inc()
            self._add_profit(outcome)
        elif kind == "reset":
            self.metrics.resets.labels(result).inc()
            self._add_profit(outcome)
        elif kind == "poke":
            if outcome.succeeded:
                self.metrics.pokes.inc()
                self.last_poke[subject] = self._timestamp(mined_at)
                self.dirty |= self.accounts  # a new volatility moves every requirement
        elif kind == "approve" and not outcome.succeeded:
            self.approved = False
        elif kind == "settle":
            for oid in subject:
                self.metrics.order_settlements.labels(result).inc()
                first = self.first_priced.pop(oid, None)
                if outcome.succeeded:
                    report.settlements_mined += 1
                    if first is not None:
                        report.settle_latencies.append(mined_at - first)
                        self.metrics.settle_latency_blocks.observe(mined_at - first)
            self._add_profit(outcome)
        elif kind == "cancel_order":
            self.metrics.order_cancels.labels(result).inc()
        elif kind == "sweep":
            self.metrics.fee_sweeps.labels(result).inc()
        elif kind == "adl":
            self.metrics.adl_runs.labels(result).inc()

    def _count_rewound(self) -> None:
        """Actions we counted as mined in blocks the chain no longer has: counted again as
        `rewound`, so `mined - rewound` is what the chain holds (Prometheus counters never go
        down), and their accounts are re-read by the re-sync."""
        if not self.mined_blocks:
            return
        numbers = sorted({number for number, _, _ in self.mined_blocks})
        found = self.rpc.batch(("eth_getBlockByNumber", [hex(n), False]) for n in numbers)
        live = {n: (b or {}).get("hash") for n, b in zip(numbers, found, strict=True)}
        for number, block_hash, kind in self.mined_blocks:
            if live[number] != block_hash:
                self.metrics.actions_rewound.labels(kind).inc()
                log("keeper.rewound", logging.WARNING, kind=kind, block=number)
        self.mined_blocks.clear()

    def _revert_class(self, kind: str, subject: Any, outcome: Outcome) -> tuple[str, str | None]:
        """Why a mined action reverted: `out_of_gas` (it used its whole gas limit), `competitor`
        (another transaction in the same block acted on the same account or auction first),
        `stale` (nobody else acted, but the chain moved between simulation and inclusion: a
        price, the clock, a health), `other` (no decodable reason). The reason is the error a
        replay at the mined block gives, decoded with the protocol's ABIs."""
        receipt = outcome.receipt
        if int(receipt["gasUsed"], 16) >= outcome.tx.fields["gas"] * 63 // 64:
            return "out_of_gas", None
        block = receipt["blockNumber"]
        fields = outcome.tx.fields
        replay, logs = self.rpc.batch_results(
            [
                (
                    "eth_call",
                    [{"from": self.me, "to": fields["to"], "data": fields["data"]}, block],
                ),
                (
                    "eth_getLogs",
                    [
                        {
                            "fromBlock": block,
                            "toBlock": block,
                            "address": [
                                self.engine.address,
                                self._liq(),
                                *([self.book.address] if self.book else []),
                            ],
                        }
                    ],
                ),
            ]
        )
        error = self.error_name(replay) if isinstance(replay, RpcError) else None
        ours = receipt["transactionHash"].lower()
        if not isinstance(logs, RpcError) and any(
            item["transactionHash"].lower() != ours
            and int(item["transactionIndex"], 16) < int(receipt["transactionIndex"], 16)
            and self._acts_on(kind, subject, item)
            for item in logs
        ):
            return "competitor", error
        return ("stale" if error else "other"), error

    def _acts_on(self, kind: str, subject: Any, item: dict[str, Any]) -> bool:
        """Whether a log is another keeper's action on the same account or auction."""
        for codec in (self.engine, self.liquidator, *([self.book] if self.book else [])):
            if item["address"].lower() != codec.address.lower():
                continue
            decoded = codec.decode_log(item)
            if decoded is None:
                return False
            args = decoded.args
            if kind in ("settle", "cancel_order"):
                orders = subject if kind == "settle" else (subject,)
                return (
                    decoded.name in ("OrderSettled", "OrderCancelled")
                    and int(args["orderId"]) in orders
                )
            if kind == "liquidation":
                return decoded.name == "Liquidated" and int(args["accountId"]) == subject
            if kind == "adl":
                return decoded.name == "AdlExecuted" and int(args["marketId"]) == subject
            if kind in ("take", "reset"):
                return decoded.name in ("Take", "AuctionReset") and int(args["id"]) == subject
        return False

    def error_name(self, error: RpcError) -> str:
        """The custom error a revert carries, by name, from any protocol contract's ABI."""
        data = error.error.get("data")
        if isinstance(data, dict):  # some nodes nest it
            data = data.get("data")
        if not isinstance(data, str) or len(data) < 10:
            return error.message
        raw = bytes.fromhex(data.removeprefix("0x"))
        for codec in (self.engine, self.views, self.liquidator, self.oracle, self.book):
            if codec is None:
                continue
            name = codec.error_name(raw)
            if not name.startswith("0x"):
                return name
        return data[:10]

    def _add_profit(self, outcome: Outcome) -> None:
        if outcome.succeeded and (profit := self._reward_in_logs(outcome.receipt.get("logs", []))):
            self.metrics.profit_quote.inc(profit)

    # ------------------------------------------------------------------ helpers

    def _busy(self, key: tuple[str, Any]) -> bool:
        return key in self.pending or key in self.foreign

    def _forget_settled_foreign(self, mined_nonce: int) -> None:
        for key, nonce in list(self.foreign.items()):
            if nonce < mined_nonce:
                del self.foreign[key]
                if key[0] == "liquidation":
                    self.dirty.add(key[1])

    def _timestamp(self, block: int) -> int:
        found = self.rpc.call("eth_getBlockByNumber", hex(block), False)
        return int(found["timestamp"], 16) if found else int(time.time())

    def _liq(self) -> str:
        return self.liquidator.address

    @staticmethod
    def _call(to: str, data: str) -> tuple[str, list[Any]]:
        return ("eth_call", [{"to": to, "data": data}, "latest"])


def _method_missing(error: RpcError) -> bool:
    """The node does not offer the method (JSON-RPC -32601, or its wording for it)."""
    message = error.message.lower()
    return error.error.get("code") == -32601 or any(
        words in message
        for words in ("not found", "does not exist", "not supported", "unsupported")
    )
