"""Gas of a volatility-sampling poke and of a warm price read (both with two feeds configured)."""

from .conftest import ETH_PRICE, advance


def test_gas_poke_with_volatility_sample(
    adapter, listed, primary, secondary, deployer, keeper, chain, gas, steady_clock
):
    adapter.poke(listed, sender=keeper)
    interval = adapter.volatilityParams(listed).interval
    advance(chain, interval)
    for feed in (primary, secondary):
        feed.setAnswer(ETH_PRICE * 1001 // 1000, sender=deployer)
    tx = adapter.poke(listed, sender=keeper)
    assert tx.events.filter(adapter.VolatilitySampled)  # the measured poke takes a sample
    gas.record("oracle.poke", tx)


def test_gas_warm_price_read(project, adapter, listed, deployer, gas):
    probe = deployer.deploy(project.OraclePriceReader)
    probe.measureWarmRead(adapter, listed, sender=deployer)
    warm = probe.lastWarmReadGas()
    assert 0 < warm < 20_000
    # The probe measures the second price() call of one transaction with gasleft().
    gas.record_value("oracle.price_warm", warm)
