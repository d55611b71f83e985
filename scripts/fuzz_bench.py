"""`ape run fuzz_bench`: fuzz throughput, naive ape path vs fast path, in one run (JSON)."""

import json
from pathlib import Path

from ape import accounts, chain, project

from solvent.bench.fuzz_bench import measure

OUT = Path("reports/bench/fuzz.json")


def main() -> None:
    result = measure(project, chain, accounts.test_accounts, examples=6, steps=30)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
