"""Who may do what: API keys for machines (roles grow with the channel's role model)."""
