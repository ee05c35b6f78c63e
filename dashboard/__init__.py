"""KPI dashboard and exports; reads through other apps' selectors and owns no model."""
