"""Events other apps may react to without credit importing them (DESIGN §3).

``rating_downgraded(sender=Rating, rating=..., previous=..., actor=...)`` is sent after the
transaction that recorded a worse grade commits; deals can, e.g., flag open approvals.
"""

from django.dispatch import Signal

rating_downgraded = Signal()
