"""Price lists: what each seller charges each tier of buyer, per case, in integer fen."""
