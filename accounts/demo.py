"""Demo users: one per role, username = role code, password demo-pass."""

from core.demo import DemoOptions, demo_seeder

from .models import ApprovalLevel
from .services import user_ensure_demo

DEMO_USERS = (
    ("sales", "営業", "太郎", {"department": "営業部"}),
    ("underwriter", "審査", "花子", {"department": "審査部"}),
    (
        "approver",
        "決裁",
        "一郎",
        {"department": "審査部", "approval_level": ApprovalLevel.EXECUTIVE},
    ),
    ("operations", "事務", "次郎", {"department": "業務部"}),
    ("collections", "回収", "三郎", {"department": "回収部"}),
    ("compliance", "法務", "桜", {"department": "コンプライアンス部"}),
    ("manager", "管理", "健", {"department": "経営企画部"}),
    ("admin", "管理者", "システム", {"department": "システム部", "is_staff": True}),
)


@demo_seeder("accounts")
def seed_users(options: DemoOptions, log) -> None:
    for role, last_name, first_name, fields in DEMO_USERS:
        user_ensure_demo(
            username=role, role=role, last_name=last_name, first_name=first_name, **fields
        )
    log("デモユーザー (パスワード demo-pass): " + ", ".join(role for role, *_ in DEMO_USERS))
