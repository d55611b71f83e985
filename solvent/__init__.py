"""Solvent: deployment, keeper, simulation and reference math for the on-chain margin engine."""
