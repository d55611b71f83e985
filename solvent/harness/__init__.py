"""The one harness that drives a deployed protocol: the demo, the simulator, the keeper tests and
benchmark all use it.

- `world.World`: codecs of every contract, the one send path (`FastSender`, batched, mined until
  each transaction lands, revert reasons decoded), reads, feed prices and block-by-block mining.
- `nodes`: a deployment made once with ape and loaded into Anvil nodes of our own.
- `population`: the one builder of a seeded crowd of leveraged trader accounts.
- `trading.trade`: the one function through which the harness trades.
"""
