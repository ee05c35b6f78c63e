"""Models of the collection app."""
