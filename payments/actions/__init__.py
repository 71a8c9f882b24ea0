"""Every change of the payments floor, one module per use case; callers import from the module
(`from payments.actions.refunds import refund_payment`). The flow of a payment is told in
`payments/providers/base.py`.

- `inputs` — what every use case checks of what it is given: amounts, currency, idempotency keys;
- `orders` — orders paid at once (kiosk, desk, API), their lines, cancelling an unpaid order;
- `basket` — the resident's basket online: adding and removing lines;
- `wallets` — top-ups (an order, or a line in the basket) and spending from a wallet at a gate;
- `checkout` — starting a payment through a provider (online, or a kiosk's card terminal);
- `settlement` — a payment succeeded: the order paid, the ledger posted, documents issued;
- `provider_events` — what providers report: payments succeeded, failed or abandoned,
  disputes, payouts;
- `refunds` — refunds asked by a régisseur or reported by the provider, and their retries;
- `desk` — cash and cheques received at the régie's desk;
- `auditing` — staff access to what names a payer, audited against them;
- `documents` — invoices, receipts and credit notes, numbered without gaps;
- `fulfilment` — paid lines fulfilled and refunded ones undone through the services' handlers;
- `sweep` — the recovery path of `manage.py payments_sweep`.

Idempotency: an order, a payment, a refund and a wallet spending each carry a unique key;
a provider event id is recorded once (`ProviderEvent`) in the transaction of its effect; the
Payment row is locked while an event about it is applied."""
