"""JSON API of the KPI dashboard: the same figures and drill-downs with the same filters."""
