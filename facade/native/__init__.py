"""The native VTE-X 1.0 interface: signed envelopes, credentials, durable intake and receipts."""

from facade.native.client import VteXClient
from facade.native.processor import IntakeContext, PreparedRecord, RecordProcessor
from facade.native.receipts import ClaimedRecord, ReceiptQueue, batch_view
