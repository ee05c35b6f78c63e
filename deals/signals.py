"""Events other apps react to without deals importing them (DESIGN §3).

``deal_moved(sender=Deal, deal=..., from_stage=..., to_stage=..., actor=...)`` is sent inside
the transaction that moved the deal, so a receiver's writes commit or roll back with it
(collection opens the expected collections of an executed deal this way).
"""

from django.dispatch import Signal

deal_moved = Signal()
