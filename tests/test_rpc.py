"""The JSON-RPC client: batches, errors as answers, retries with backoff on transport faults."""

import threading

import pytest

from solvent.anvil import AnvilOptions, free_port, running_anvil, start_anvil
from solvent.rpc import RpcClient, RpcError, RpcUnavailable


def test_batch_answers_in_order():
    with running_anvil() as node:
        client = RpcClient(node.url)
        chain_id, block = client.batch([("eth_chainId", []), ("eth_blockNumber", [])])
        assert (int(chain_id, 16), int(block, 16)) == (31337, 0)


def test_error_answer_is_not_retried():
    with running_anvil() as node:
        client = RpcClient(node.url, retries=5, backoff_s=10)
        with pytest.raises(RpcError, match="no_such_method"):
            client.call("no_such_method")


def test_unreachable_node_fails_after_retries():
    client = RpcClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff_s=0.01)
    with pytest.raises(RpcUnavailable):
        client.call("eth_chainId")


def test_retries_reach_a_node_that_comes_back():
    port = free_port()
    started = []
    timer = threading.Timer(0.3, lambda: started.append(start_anvil(AnvilOptions(), port=port)))
    timer.start()
    try:
        client = RpcClient(f"http://127.0.0.1:{port}", retries=8, backoff_s=0.1)
        assert int(client.call("eth_chainId"), 16) == 31337
    finally:
        timer.join()
        for node in started:
            node.stop()
