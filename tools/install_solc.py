"""Provision the project's pinned solc for py-solc-x / ape-solidity.

Prefers py-solc-x's native build; when its download host is unreachable (the usual case on
registry-only machines), links the solc-js wrapper as `solc-v<version>` in py-solc-x's
install folder. Idempotent: does nothing when that version is already installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import solcx
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "tools" / "solc-js-wrapper.js"
NATIVE_DOWNLOAD_TIMEOUT_S = 20


def pinned_version() -> Version:
    import yaml

    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text())
    return Version(config["solidity"]["version"])


def install(version: Version) -> str:
    folder = solcx.get_solcx_install_folder()
    target = folder / f"solc-v{version}"
    if target.exists() and solcx.wrapper.get_solc_version(target) == version:
        return f"solc {version} already installed at {target}"
    if target.is_symlink():
        target.unlink()
    if os.environ.get("SOLVENT_SOLC_NATIVE", "1") == "1":
        try:
            import requests

            requests.head("https://binaries.soliditylang.org", timeout=NATIVE_DOWNLOAD_TIMEOUT_S)
            solcx.install_solc(version)
            return f"solc {version} installed natively at {target}"
        except Exception as exc:  # any failure means: use the npm build
            print(f"native solc unavailable ({type(exc).__name__}); using solc-js", file=sys.stderr)
    folder.mkdir(parents=True, exist_ok=True)
    target.symlink_to(WRAPPER)
    found = solcx.wrapper.get_solc_version(target)
    if found != version:
        target.unlink()
        raise SystemExit(f"npm solc is {found}, ape-config.yaml pins {version}: run npm ci")
    return f"solc {version} (solc-js) linked at {target}"


if __name__ == "__main__":
    print(install(pinned_version()))
