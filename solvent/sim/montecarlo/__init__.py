"""Monte Carlo campaigns: seeded paths x a parameter grid on the exact Python world, as Dask
tasks, with a sample replayed on Anvil as the referee (docs/simulator.md, "Monte Carlo
campaign")."""
