"""Minimal JSON-RPC client over HTTP: single and batched calls, retries with backoff on transport
faults (never on JSON-RPC errors, which are answers)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import requests


class RpcError(RuntimeError):
    """A JSON-RPC call answered with an error."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message', error)}")
        self.method = method
        self.error = error

    @property
    def message(self) -> str:
        return str(self.error.get("message", ""))


class RpcUnavailable(RuntimeError):
    """The node did not answer after every retry."""


TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout)


class RpcClient:
    def __init__(
        self,
        url: str,
        timeout_s: float = 30.0,
        retries: int = 0,
        backoff_s: float = 0.2,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.session = requests.Session()
        self._next_id = 0
        self.requests = 0  # HTTP requests sent (a batch is one)
        self.calls = 0  # JSON-RPC calls sent (a batch of n is n): what metered providers bill

    def call(self, method: str, *params: Any) -> Any:
        return self.batch([(method, list(params))])[0]

    def batch(self, calls: Iterable[tuple[str, list[Any]]]) -> list[Any]:
        """Sends the calls as one JSON-RPC batch; results in order; raises on the first error."""
        results = self.batch_results(calls)
        for result in results:
            if isinstance(result, RpcError):
                raise result
        return results

    def batch_results(self, calls: Iterable[tuple[str, list[Any]]]) -> list[Any]:
        """One JSON-RPC batch; each item is the result or the `RpcError` that answered it (a
        reverted eth_call or a rejected transaction must not hide its neighbours' answers)."""
        payload = []
        for method, params in calls:
            self._next_id += 1
            payload.append(
                {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
            )
        if not payload:
            return []
        self.requests += 1
        self.calls += len(payload)
        replies = self._post(payload)
        if isinstance(replies, dict):  # the node rejected the whole request (size, syntax)
            raise RpcError(payload[0]["method"], replies.get("error") or replies)
        by_id = {reply["id"]: reply for reply in replies}
        results: list[Any] = []
        for call in payload:
            reply = by_id[call["id"]]
            if "error" in reply:
                results.append(RpcError(call["method"], reply["error"]))
            else:
                results.append(reply["result"])
        return results

    def _post(self, payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                response = self.session.post(self.url, json=payload, timeout=self.timeout_s)
                response.raise_for_status()
                return response.json()
            except (*TRANSPORT_ERRORS, requests.HTTPError) as exc:
                if attempt == self.retries:
                    raise RpcUnavailable(f"{self.url}: {exc}") from exc
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
