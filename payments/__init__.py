"""Payments: régies, the double-entry ledger, wallets, orders, providers, invoices and receipts.

The flow of a payment and the actions providers and webhooks call are told in
`payments/providers/base.py`. Where things live:

- `models.py` — tables; `ledger.py` — the one posting function and the accounts;
- `actions/` — every write, one module per use case (orders, the basket, wallets, checkout,
  settlement, provider events, refunds, desk payments, auditing, documents, fulfilment and the
  sweeper: listed in `actions/__init__.py`);
- `queries.py` — balances, histories, what a resident or the régisseur sees, reconciliation;
- `fulfilment.py` — the registry of handlers services register by name;
- `providers/` — the interface, the registry and the demo provider (Stripe beside it);
- `tasks.py` — fulfilment, receipt email and sweeper tasks, queued when the actions announce
  them (`signals.py`: the tasks import the actions, never the reverse); `pdf.py` — the
  documents.
"""
