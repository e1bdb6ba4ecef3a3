"""What hospitals sent and what became of it: batches, receipts, Excel imports, the forwarder's backlog."""
