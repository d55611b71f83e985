"""Reference models of the contracts: exact integers with the contracts' rounding, one module per
mechanism, used by the tests (Hypothesis compares them with the chain to the wei), the keeper and
the simulator. `margin` (the engine's margin, funding-free parts and liquidation plan), `funding`
and `ledger` (velocity funding, the borrow index, the engine's books), `orders`, `pool`, `adl`,
`auction` (the Dutch auction's formulas) and `auctions` (its book of lots), `insurance`,
`oracle_math`, `portfolio` (the portfolio risk model), `world` (the Monte Carlo campaign's world),
on `fixed_point`'s roundings."""
