"""The toolchain itself: the node is a real Anvil and contracts compile with OpenZeppelin."""

import pytest
from ape import reverts


def test_node_is_anvil(chain):
    client = chain.provider.web3.client_version
    assert client.startswith("anvil/v1.7."), client


def test_chain_id_is_local(chain):
    assert chain.chain_id == 31337


@pytest.fixture(scope="module")
def token(project, deployer):
    return deployer.deploy(project.MockERC20, "Probe", "PRB", 6)


def test_openzeppelin_token_compiles_and_runs(token, deployer, accounts):
    token.mint(deployer, 1_000, sender=deployer)
    token.transfer(accounts[1], 400, sender=deployer)
    assert token.balanceOf(deployer) == 600
    assert token.balanceOf(accounts[1]) == 400
    assert token.decimals() == 6


def test_openzeppelin_custom_error_decodes(token, deployer, accounts):
    with reverts(token.ERC20InsufficientBalance):
        token.transfer(deployer, 1, sender=accounts[2])


EIP170_LIMIT = 24_576
PROTOCOL_CONTRACTS = (
    "MarginEngine",
    "MarginEngineExtension",
    "MarginEngineGovernance",
    "MarginEngineLiquidation",
    "LPPool",
    "OracleAdapter",
    "DutchAuctionLiquidator",
    "InsuranceFund",
    "OrderBook",
    "PortfolioRiskModel",
)


@pytest.mark.parametrize("name", PROTOCOL_CONTRACTS)
def test_protocol_contracts_fit_mainnet_code_size_limit(project, name):
    """EIP-170: the optimized runtime code must stay deployable on mainnet, not only on Anvil."""
    code = getattr(project, name).contract_type.runtime_bytecode.bytecode
    size = (len(code) - 2) // 2
    assert 0 < size <= EIP170_LIMIT, f"{name}: {size} bytes"


EIP3860_INITCODE_LIMIT = 2 * EIP170_LIMIT


@pytest.mark.parametrize("name", ("MarginEngine", "MarginEngineExtension"))
def test_deployers_of_modules_fit_the_initcode_limit(project, name):
    """EIP-3860: the engine embeds the liquidation module's creation code and the extension the
    governance module's, so their creation code must stay under the initcode limit too."""
    code = getattr(project, name).contract_type.deployment_bytecode.bytecode
    size = (len(code) - 2) // 2
    assert 0 < size <= EIP3860_INITCODE_LIMIT, f"{name}: {size} bytes"
