"""Test-only helpers on top of the harness (solvent.harness): crashed worlds, a flaky RPC proxy."""

from __future__ import annotations

from typing import Any

from solvent.harness.nodes import crowd
from solvent.harness.population import weth_longs
from solvent.harness.world import BLOCK_SECONDS, World
from solvent.keeper.bot import Keeper


def crashed(node: Any, template: Any, n_accounts: int = 40, **keeper_config: Any):
    """A populated world, a synced keeper that has approved and poked, and a 35% crash mined:
    returns (world, keeper, accounts liquidatable now, the update block)."""
    w, _ = crowd(node, template, weth_longs(n_accounts))
    keeper = w.keeper(**keeper_config)
    keeper.sync()
    w.mine_block()
    keeper.step()
    w.mine_block()
    keeper.step()
    w.set_prices({"WETH": 1_300, "WBTC": 39_000})
    update_block = w.block()[0]
    breached = w.liquidatable()
    assert breached
    return w, keeper, breached, update_block


def liquidation_counts(w: World, from_block: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    for event in w.logs("engine", "Liquidated", from_block):
        counts[event["accountId"]] = counts.get(event["accountId"], 0) + 1
    return counts


def drive(w: World, keeper: Keeper, blocks: int, seconds: int = BLOCK_SECONDS) -> list[Any]:
    reports = []
    for _ in range(blocks):
        w.mine_block(seconds)
        reports.append(keeper.step())
    return reports


def sent_by(w: World, address: str, from_block: int) -> list[dict[str, Any]]:
    """Receipts of every transaction `address` got mined since `from_block`."""
    head = int(w.sender.rpc.call("eth_blockNumber"), 16)
    blocks = w.sender.rpc.batch(
        ("eth_getBlockByNumber", [hex(b), True]) for b in range(from_block, head + 1)
    )
    hashes = [
        tx["hash"]
        for block in blocks
        for tx in block["transactions"]
        if tx["from"].lower() == address.lower()
    ]
    return w.sender.receipts(hashes)


class FlakyProxy:
    """An HTTP JSON-RPC proxy in front of a node that fails on demand: `down` answers every
    request with 503, `fail_every` answers every n-th with 503, `fail_when` every request whose
    body contains those bytes (one call cut mid-step), `stall_every` holds every n-th request
    past the client's time-out before failing it."""

    def __init__(self, target: str, fail_every: int = 0, stall_every: int = 0, stall_s: float = 0):
        self.fail_when: bytes | None = None  # fail every request whose body contains these bytes
        import http.server
        import threading

        import requests

        self.target = target
        self.fail_every = fail_every
        self.stall_every = stall_every
        self.stall_s = stall_s
        self.down = False
        self.requests = 0
        self.failures = 0
        proxy = self
        session = requests.Session()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.requests += 1
                n = proxy.requests
                if proxy.stall_every and n % proxy.stall_every == 0:
                    import time

                    time.sleep(proxy.stall_s)
                    return self._fail()
                if proxy.fail_when is not None and proxy.fail_when in body:
                    return self._fail()
                if proxy.down or (proxy.fail_every and n % proxy.fail_every == 0):
                    return self._fail()
                reply = session.post(
                    proxy.target,
                    data=body,
                    timeout=60,
                    headers={"Content-Type": "application/json"},
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def _fail(self) -> None:
                proxy.failures += 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
