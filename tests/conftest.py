import pytest


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]
