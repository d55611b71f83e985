"""Volatility forecasts for predictive margin (docs/predictive-margin.md): the real hourly
history (data.py), the forecasters (models.py), the tests of a margin level against realized
moves (stats.py) and the walk-forward backtest (backtest.py)."""
