"""案件: deals, receivables, the stage machine, approvals (稟議) and tasks."""
