"""回収: bank statements (全銀), reconciliation (消込), overdue and dunning.

Named collection, not collections: a top-level ``collections`` package would be
shadowed by Python's standard library."""
