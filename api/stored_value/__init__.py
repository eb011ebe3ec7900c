"""Member stored value (会员储值): members, their prepaid balances and the double-entry journal.

See ``docs/stored-value.md`` for the accounts, the postings of each operation and the rules.
"""
