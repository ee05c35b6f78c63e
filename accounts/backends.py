"""Authentication backend that refuses demo users under production settings."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class RoleAwareModelBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        if getattr(user, "is_demo", False) and not settings.DEMO_USERS_ALLOWED:
            return False
        return super().user_can_authenticate(user)
