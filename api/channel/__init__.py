"""The sales channel's parties: HQ, regions, dealers, stores and warehouses."""
