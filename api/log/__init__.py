"""The log's machinery, kept in three roles as in Tessera: sequencing (assigning seq durably),
integration (adding sequenced leaves to the stored tree) and publishing (signing checkpoints)."""
