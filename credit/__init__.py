"""与信: ratings, credit limits, exposure ledger, advance rates and funding."""
