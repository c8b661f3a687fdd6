"""Deciding usage events, up to the counters: validation, idempotency against SQL,
pricing, the rules that need no counter, and the rest as counter plans.

`Books.plan` turns a call's events into per-organization `EventPlan`s (caps,
allocations, releases, the charge, what an accepted event adds), a counter store
decides them (`store.counters`), and `Books.finish` turns its decisions into outcomes,
messages and the rows to store. The decision order is in `store.recording`.

One module a step: `events` (what a call reports and gets back), `checks` (why an
event cannot be recorded at all), `counter_plans` (the rules as counter checks and
the call's `Plan`), `outcomes` (what each event is told), and `books` (what a call
decides with, and the steps in order). Import from the module that defines a name.
"""
