"""The Anvil process manager: a node of our own, with state that survives a restart."""

import time

from solvent.anvil import AnvilOptions, running_anvil, start_anvil

PROBE = "0x00000000000000000000000000000000000000aa"


def test_node_starts_without_step_tracing_and_answers():
    with running_anvil() as node:
        assert str(node.call("web3_clientVersion")).startswith("anvil/v1.7.")
        assert int(str(node.call("eth_chainId")), 16) == 31337
        node.call("anvil_mine", "0x3")
        assert int(str(node.call("eth_blockNumber")), 16) == 3
    assert not node.is_running()


def test_a_fixed_clock_ignores_the_wall_clock():
    genesis = 1_700_000_000
    with running_anvil(AnvilOptions(fixed_clock_from=genesis)) as node:
        node.call("anvil_mine", "0x1")
        time.sleep(1.2)
        node.call("anvil_mine", "0x1")
        node.call("evm_setNextBlockTimestamp", hex(genesis + 100))
        node.call("anvil_mine", "0x2")
        stamps = [
            int(node.call("eth_getBlockByNumber", hex(n), False)["timestamp"], 16) for n in range(5)
        ]
    assert stamps == [genesis, genesis + 1, genesis + 2, genesis + 100, genesis + 101]


def test_state_survives_a_graceful_restart(tmp_path):
    node = start_anvil(AnvilOptions(state_path=tmp_path / "state.json"))
    try:
        node.call("anvil_setBalance", PROBE, hex(12345))
        node = node.restart()
        assert int(str(node.call("eth_getBalance", PROBE, "latest")), 16) == 12345
    finally:
        node.stop()


def test_a_killed_node_keeps_only_what_was_dumped(tmp_path):
    node = start_anvil(AnvilOptions(state_path=tmp_path / "state.json"))
    try:
        node.call("anvil_setBalance", PROBE, hex(777))
        node.stop()
        node = start_anvil(node.options, port=node.port)
        node.call("anvil_setBalance", PROBE, hex(999))
        node.kill()
        node = start_anvil(node.options, port=node.port)
        assert int(str(node.call("eth_getBalance", PROBE, "latest")), 16) == 777
    finally:
        node.stop()
