"""Slither over every contract, compiled through the project's pinned solc (the solc-js wrapper
when no native build could be installed), as one standard-JSON compilation.

Fails when a High or Medium finding points into our own contracts (mocks excluded: they only
run on local chains). A finding accepted after review is silenced at its site with
`// slither-disable-next-line <detector>` and a comment that says why.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import solcx
from crytic_compile.platform.solc_standard_json import SolcStandardJson
from install_solc import pinned_version
from slither.detectors import all_detectors
from slither.detectors.abstract_detector import AbstractDetector
from slither.slither import Slither

ROOT = Path(__file__).resolve().parent.parent
EXCLUDED = ("node_modules/", "contracts/mocks/")
FAILING_IMPACTS = ("High", "Medium")


def compilation() -> SolcStandardJson:
    standard_json = SolcStandardJson()
    for path in sorted((ROOT / "contracts").rglob("*.sol")):
        standard_json.add_source_file(str(path.relative_to(ROOT)))
    standard_json.add_remapping("@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/")
    return standard_json


def ours(finding: dict) -> bool:
    """Whether the finding's primary site (its first element) is in our own contracts."""
    elements = finding.get("elements") or [{}]
    path = elements[0].get("source_mapping", {}).get("filename_relative", "")
    return bool(path) and not path.startswith(EXCLUDED)


def main() -> int:
    solc = solcx.install.get_executable(pinned_version())
    slither = Slither(compilation(), solc=str(solc), solc_args="--allow-paths .")
    for _, detector in inspect.getmembers(all_detectors, inspect.isclass):
        if issubclass(detector, AbstractDetector):
            slither.register_detector(detector)
    findings = [f for batch in slither.run_detectors() for f in batch if ours(f)]
    failing = [f for f in findings if f["impact"] in FAILING_IMPACTS]
    for finding in sorted(findings, key=lambda f: (f["impact"], f["check"])):
        print(f"{finding['impact']:<13} {finding['check']:<32} {finding['first_markdown_element']}")
    for finding in failing:
        print(f"\n{finding['check']}: {finding['description'].strip()}")
    print(f"slither: {len(findings)} findings in our contracts, {len(failing)} high/medium")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
