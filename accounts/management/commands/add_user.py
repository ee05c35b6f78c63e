"""Create a member of staff with roles; the way to make the first admin in production."""

import getpass

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import ApprovalLevel, User
from accounts.roles import ROLE_CODES
from core.audit import audit_log


class Command(BaseCommand):
    help = "Create a user with roles; the password is asked for, never passed as an argument."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", action="append", choices=ROLE_CODES, required=True)
        parser.add_argument("--last-name", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument(
            "--approval-level",
            type=int,
            default=0,
            choices=[level.value for level in ApprovalLevel],
        )

    def handle(self, *args, **opts):
        if User.objects.filter(username=opts["username"]).exists():
            raise CommandError(f"ユーザー {opts['username']} は既に存在します。")
        password = getpass.getpass("パスワード: ")
        if not password or password != getpass.getpass("パスワード (確認): "):
            raise CommandError("パスワードが一致しません。")
        with transaction.atomic():
            user = User(
                username=opts["username"],
                last_name=opts["last_name"],
                first_name=opts["first_name"],
                approval_level=opts["approval_level"],
                is_staff="admin" in opts["role"],
            )
            user.set_password(password)
            user.full_clean()
            user.save()
            user.groups.set(Group.objects.filter(name__in=opts["role"]))
            audit_log(
                actor=None,
                actor_label="cli:add_user",
                action="user.created",
                subject=user,
                data={"roles": opts["role"]},
            )
        self.stdout.write(self.style.SUCCESS(f"ユーザー {user.username} を作成しました。"))
