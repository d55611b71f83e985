"""The Solvent keeper: account index, liquidations, auction takes and resets, volatility pokes."""
