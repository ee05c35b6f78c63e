"""The dashboard's computations, one module per area; ``dashboard.selectors`` assembles them."""
