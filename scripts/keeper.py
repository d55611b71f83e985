"""ape run keeper --network ethereum:anvil:node --account TEST::0 [--metrics-port 9100] [...]

Runs the Solvent keeper against the deployment recorded in deployments/<network>.json: liquidates,
takes and resets auctions, pokes the volatility estimator, auto-deleverages a market when due.
Signs with an ape account (a keystore alias; `TEST::0` on a local network): no key is ever read
from a file. Every tunable field of
`KeeperConfig` and `FeePolicy` is an option (`--help`); docs/keeper.md says how to set them.
"""

import signal
import threading

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from solvent.abi import abis_from_project
from solvent.keeper import logs
from solvent.keeper.bot import CONTRACTS, Keeper, KeeperConfig
from solvent.keeper.metrics import KeeperMetrics
from solvent.keeper.signers import ApeAccountSigner
from solvent.keeper.transactions import FeePolicy
from solvent.ops.cli import record_for

GWEI = 10**9
DEFAULTS = KeeperConfig(rpc_url="", record={}, abis={})
FEES = FeePolicy(max_fee_cap=500 * GWEI, priority_fee=2 * GWEI)
# KeeperConfig fields an operator tunes, each an option `--field-name` with the dataclass default.
TUNABLE = (
    ("take_discount_bps", "take when the auction price <= oracle x (1 - discount)"),
    ("poke_interval_s", "seconds of chain time between volatility pokes of an asset"),
    ("scan_batch", "account ids per healthOf / liquidatableAccounts call"),
    ("liquidation_gas", "gas limit of a liquidation"),
    ("take_gas", "gas limit of a take"),
    ("reset_gas", "gas limit of a reset"),
    ("poke_gas", "gas limit of a poke"),
    ("settle_gas", "gas limit of an order's settlement"),
    ("settle_batch_max", "most orders per settleOrders call (one market and round)"),
    ("settle_gas_per_batched_order", "gas limit added per further order of a batch"),
    ("cancel_order_gas", "gas limit of an expired order's cancellation"),
    ("sweep_interval_s", "seconds of chain time between sweeps of insurance fees (0 = off)"),
    ("sweep_min_quote", "least insurance fees (quote units) worth a sweep"),
    ("sweep_gas", "gas limit of a sweep of insurance fees"),
    ("lp_execute_gas", "gas limit of an LP request's execution (or its cancellation)"),
    ("adl_enabled", "auto-deleverage while the traders' profit (all markets) is above the trigger"),
    ("adl_gas", "gas limit of an autoDeleverage call"),
    ("adl_gas_per_account", "gas limit added per further account listed"),
    ("adl_check_interval_blocks", "blocks between auto-deleveraging checks of a quiet chain"),
    ("log_range", "blocks per eth_getLogs request"),
    ("full_scan_interval_blocks", "blocks between full liquidatableAccounts scans"),
    ("rpc_retries", "retries of a failed RPC request"),
    ("rpc_backoff_s", "first retry delay in seconds (doubles)"),
    ("flash_pool_fee", "with --flash-taker: the router pool's fee tier"),
    ("flash_min_profit_bps", "with --flash-taker: least profit of a sale, bps of the quote owed"),
    ("liquidation_order", "risk (lowest health first) or account (by id: a baseline)"),
    ("native_asset", 'the gas token\'s asset key, for the profitability gate ("" = off)'),
    ("min_profit_margin_bps", "send only when reward >= gas cost x (1 + margin)"),
)


def tunable_options(command):
    for name, text in reversed(TUNABLE):
        default = getattr(DEFAULTS, name)
        option = "--" + name.replace("_", "-")
        command = click.option(
            option, name, type=type(default), default=default, help=text, show_default=True
        )(command)
    return command


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--deployment", default=None, help="deployments/<name>.json (default: network)")
@click.option("--metrics-port", type=int, default=None, help="Serve Prometheus /metrics here")
@click.option("--max-fee-gwei", type=float, default=FEES.max_fee_cap / GWEI, show_default=True)
@click.option(
    "--priority-fee-gwei", type=float, default=FEES.priority_fee / GWEI, show_default=True
)
@click.option("--bump-factor", type=float, default=FEES.bump_factor, show_default=True)
@click.option("--stuck-after-blocks", type=int, default=FEES.stuck_after_blocks, show_default=True)
@click.option("--poll-interval", type=float, default=0.2, show_default=True, help="seconds")
@click.option(
    "--flash-taker",
    default=None,
    help="your FlashTaker (ape run flash_taker): takes sell through it and need no quote",
)
@tunable_options
def cli(
    network,
    account,
    deployment,
    metrics_port,
    max_fee_gwei,
    priority_fee_gwei,
    bump_factor,
    stuck_after_blocks,
    poll_interval,
    **tuned,
):
    logs.configure()
    record = record_for(network, chain, deployment, check_code=True)
    provider = chain.provider
    rpc_url = getattr(provider, "http_uri", None) or provider.uri
    config = KeeperConfig(
        rpc_url=rpc_url,
        record=record,
        abis=abis_from_project(project, CONTRACTS),
        fee_policy=FeePolicy(
            max_fee_cap=int(max_fee_gwei * GWEI),
            priority_fee=int(priority_fee_gwei * GWEI),
            bump_factor=bump_factor,
            stuck_after_blocks=stuck_after_blocks,
        ),
        **tuned,
    )
    metrics = KeeperMetrics()
    if metrics_port is not None:
        metrics.serve(metrics_port)
    keeper = Keeper(config, ApeAccountSigner(account, provider.network.ecosystem), metrics=metrics)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"keeper {keeper.me} on {rpc_url}; Ctrl-C to stop")
    try:
        keeper.run(stop, poll_interval_s=poll_interval)
    except KeyboardInterrupt:
        stop.set()
