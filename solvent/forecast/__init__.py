"""Volatility forecasts for predictive margin (docs/predictive-margin.md): the forecasters
(models.py) on the real hourly history (solvent.price_history), the tests of a margin level
against realized moves (stats.py) and the walk-forward backtest (backtest.py)."""
