"""Every usage rule, in one place and free of I/O.

Cycles, caps, levels, credit draws, pricing and display arithmetic live here as plain
functions over `Decimal` and aware UTC `datetime`. The write path (recording and
checking usage) and the read path (resolvers) both import these functions, so a meter
can never be judged one way when an event is decided and another way when it is shown;
and every rule is tested without a database.
"""
