"""ape run demo [--accounts 300 --seed 1 --eth-drop 0.35]

The main job: a local Anvil of its own, the protocol deployed, a few hundred leveraged traders,
the keeper, a price crash; prints a summary and writes reports/demo/ (summary.json, PNG plots,
index.html).
"""

from pathlib import Path

import click
from ape import networks, project
from ape.logging import logger

from solvent.demo import DemoOptions, run_demo


@click.command()
@click.option("--accounts", default=300, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--eth-drop", default=0.35, show_default=True)
@click.option("--btc-drop", default=0.30, show_default=True)
@click.option("--out", default="reports/demo", show_default=True, type=click.Path(path_type=Path))
def cli(accounts, seed, eth_drop, btc_drop, out):
    logger.set_level("WARNING")
    options = DemoOptions(
        accounts=accounts, seed=seed, eth_drop=eth_drop, btc_drop=btc_drop, out=out
    )
    click.echo(f"Solvent demo: {accounts} traders, ETH -{eth_drop:.0%}, BTC -{btc_drop:.0%}")

    with click.progressbar(length=1, label="  chain", show_pos=True) as bar:

        def progress(phase: str, step: int, total: int) -> None:
            bar.label = f"  {phase:<9}"
            bar.length = total
            bar.update(step - bar.pos)

        result = run_demo(project, networks, options, progress)
    click.echo("")
    s = result.summary
    rows = [
        ("accounts liquidated", f"{s['accounts_liquidated']} of {s['accounts']}"),
        ("auctions settled", f"{s['auctions_settled']} of {s['auctions_started']}"),
        ("average clearing price / oracle", _ratio(s["average_clearing_price_vs_oracle"])),
        ("bad debt", f"${s['bad_debt_usd']:,.2f} (socialized ${s['socialized_usd']:,.2f})"),
        (
            "insurance fund",
            f"${s['insurance_fund_before_usd']:,.0f} -> ${s['insurance_fund_after_usd']:,.0f}",
        ),
        (
            "keeper reaction latency",
            f"mean {s['reaction_latency_blocks_mean']} blocks, "
            f"max {s['reaction_latency_blocks_max']}",
        ),
    ]
    orders = s.get("orders")
    if orders:
        rows.append(
            (
                "orders (commit -> round -> keeper)",
                f"{orders['committed']} committed, {orders['settled']} settled, "
                f"{orders['cancelled']} cancelled, {orders['pending']} pending",
            )
        )
        rows.append(
            (
                "order settlement latency",
                f"mean {orders['settle_latency_blocks_mean']} blocks, "
                f"max {orders['settle_latency_blocks_max']} (from the price's block)",
            )
        )
        rows.append(
            (
                "order fees",
                f"trade ${orders['trade_fees_usd']:,.2f}, "
                f"settlement ${orders['settlement_fees_usd']:,.2f} (to the keeper)",
            )
        )
    for key, label in (
        ("funding_to_pool_usd", "funding paid to the pool"),
        ("borrow_interest_to_pool_usd", "borrow interest paid to the pool"),
    ):
        value = s.get(key)
        rows.append((label, "n/a (engine without it)" if value is None else f"${value:,.2f}"))
    for label, value in rows:
        click.echo(f"  {label:<34} {value}")
    click.echo(f"\n  report: {', '.join(str(f) for f in result.files)}")


def _ratio(value):
    return "n/a" if value is None else f"{value:.4f}"
