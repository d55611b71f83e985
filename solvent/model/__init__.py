"""Reference models added with the order flow (issue 14): funding and the borrow rate on quote
debt. Exact integers with the contracts' rounding, as `solvent.margin` for the margin math."""
