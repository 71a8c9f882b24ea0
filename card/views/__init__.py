"""Card pages, one module per area; thin views over card.actions and card.queries."""
