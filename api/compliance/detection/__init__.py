"""The diversion and clone detector: pure functions over plain data, no database.

``model`` holds the facts it reads (parties, territory, case movements, consumer scans),
``thresholds`` the tunable numbers with their justification, ``signals`` the single rules,
``detector`` the batch that turns facts into scored findings, ``synthetic`` a generator of
channels with known diversions for the precision/recall test and the benchmark.
"""
