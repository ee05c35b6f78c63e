"""The deals REST API: deals with their pipeline actions, receivables and approvals (稟議)."""
