"""Shipments: picking by scanning case codes, dispatch and receipt as ledger transfers, and
the custody of every case code as a projection of those transfers."""
