"""`python -m solvent.sim.montecarlo`: the Monte Carlo campaign (solvent/sim/montecarlo/cli.py)."""

import sys

from solvent.sim.montecarlo.cli import main

if __name__ == "__main__":
    sys.exit(main())
