"""What the payments actions ask to be done in the background, once their transaction commits.

The tasks (`payments.tasks`) run actions, so the actions cannot import the tasks back without a
cycle: an action sends one of these signals and `payments.tasks`, connected when the app is
ready (`PaymentsConfig.ready`), queues the task. Fulfilment that is never queued (a crash
between the commit and the signal, a queue that refuses it) is caught up by the sweeper
(`manage.py payments_sweep`); a receipt never mailed stays downloadable in Mes paiements."""

from django.dispatch import Signal

# order_id: the order has lines to fulfil (it was paid) or to undo (they were refunded).
fulfilment_due = Signal()
# payment_id: the payment succeeded; its receipts are to be mailed.
receipts_due = Signal()
# line_id: a paid line can never be delivered (it is refunded); its payer is to be told.
undeliverable_notice_due = Signal()
