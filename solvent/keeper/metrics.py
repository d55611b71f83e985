"""Prometheus metrics of a keeper, on their own registry (several keepers may share a process)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import start_http_server

LATENCY_BUCKETS_BLOCKS = (0, 1, 2, 3, 5, 10, 25)


@dataclass
class KeeperMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.accounts_tracked = Gauge(
            "solvent_keeper_accounts_tracked", "Accounts in the keeper's index", registry=r
        )
        self.liquidations = Counter(
            "solvent_keeper_liquidations", "Liquidations sent, by outcome", ["outcome"], registry=r
        )
        self.takes = Counter(
            "solvent_keeper_takes", "Auction takes sent, by outcome", ["outcome"], registry=r
        )
        self.resets = Counter(
            "solvent_keeper_resets", "Auction resets sent, by outcome", ["outcome"], registry=r
        )
        self.pokes = Counter("solvent_keeper_pokes", "Volatility pokes sent", registry=r)
        self.profit_quote = Gauge(
            "solvent_keeper_profit_quote",
            "Cumulative profit in quote units: rewards plus take margins, before gas",
            registry=r,
        )
        self.reaction_latency_blocks = Histogram(
            "solvent_keeper_reaction_latency_blocks",
            "Blocks from an account becoming liquidatable to its liquidation being mined",
            buckets=LATENCY_BUCKETS_BLOCKS,
            registry=r,
        )
        self.rpc_errors = Counter(
            "solvent_keeper_rpc_errors", "RPC calls that failed after retries", registry=r
        )
        self.actions_dropped = Counter(
            "solvent_keeper_actions_dropped",
            "Actions cancelled before a re-broadcast because their simulation failed, by kind",
            ["kind"],
            registry=r,
        )
        self.actions_unprofitable = Counter(
            "solvent_keeper_actions_unprofitable",
            "Actions not sent: their simulated reward did not cover their gas, by kind",
            ["kind"],
            registry=r,
        )
        self.actions_rewound = Counter(
            "solvent_keeper_actions_rewound",
            "Actions counted as mined whose block a chain rewind removed, by kind",
            ["kind"],
            registry=r,
        )
        self.step_failures = Counter(
            "solvent_keeper_step_failures",
            "Steps abandoned before their end, by cause (rpc or error); their work is retried",
            ["cause"],
            registry=r,
        )
        self.last_processed_block = Gauge(
            "solvent_keeper_last_processed_block", "Head of the last step that ended", registry=r
        )
        self.last_step_timestamp = Gauge(
            "solvent_keeper_last_step_timestamp_seconds",
            "Wall-clock time of the last step that ended (alert when it stops moving)",
            registry=r,
        )
        self.signer_balance = Gauge(
            "solvent_keeper_signer_balance_eth",
            "Native balance of the keeper's signer (ether)",
            registry=r,
        )
        self.orders_pending = Gauge(
            "solvent_keeper_orders_pending",
            "Orders committed to the order book and neither settled nor cancelled",
            registry=r,
        )
        self.order_settlements = Counter(
            "solvent_keeper_order_settlements",
            "Order settlements sent, by outcome",
            ["outcome"],
            registry=r,
        )
        self.fee_sweeps = Counter(
            "solvent_keeper_fee_sweeps",
            "Sweeps of the engine's insurance fees to the fund, by outcome",
            ["outcome"],
            registry=r,
        )
        self.adl_runs = Counter(
            "solvent_keeper_adl_runs",
            "autoDeleverage calls sent (one per market due), by outcome",
            ["outcome"],
            registry=r,
        )
        self.order_cancels = Counter(
            "solvent_keeper_order_cancels",
            "Cancellations of expired orders sent, by outcome",
            ["outcome"],
            registry=r,
        )
        self.settle_latency_blocks = Histogram(
            "solvent_keeper_settle_latency_blocks",
            "Blocks from the first block in which an order's price existed to its settlement",
            buckets=LATENCY_BUCKETS_BLOCKS,
            registry=r,
        )
        self.breached_pending = Gauge(
            "solvent_keeper_breached_accounts",
            "Accounts read below health 1 and not yet read healthy again",
            registry=r,
        )

    def exposition(self) -> str:
        return generate_latest(self.registry).decode()

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Serves /metrics on a background thread."""
        start_http_server(port, addr=addr, registry=self.registry)
