"""Compliance: diversion (窜货) and cloned-code detection, alerts, reports, evidence bundles.

``detection`` and ``geo`` are pure (no database); ``alerts``, ``reports`` and ``evidence`` wire
them to the channel's and traceability's data. See docs/compliance.md.
"""
