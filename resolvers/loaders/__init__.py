"""Per-request DataLoaders, one module per domain (Saleor's layout).

Each batch opens its own session from the factory: an AsyncSession is not safe across
the concurrent tasks in which Strawberry resolves sibling fields.
"""
