"""`memories.batch_create`: bootstrap ingestion of documents (resources added in step 2)."""
