"""The ``standard`` preset's pipeline around the paper's network (``docs/method.md``):
the region it trains on (``region``), the pre-fill and the held-out extra holes
(``holdout``), the choice between the network and the fills (``selection``), and the
output at plate resolution (``plate``, ``output``)."""
