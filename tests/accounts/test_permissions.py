"""Every page needs a login; each role reaches its own pages and is refused the others'."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.roles import ROLE_CODES

LOGIN = "/accounts/login/"
PUBLIC = {LOGIN}


def _all_paths(resolver=None, prefix="") -> list[str]:
    """Return a concrete path for every URL pattern, with sample values for its arguments."""
    resolver = resolver or get_resolver()
    paths = []
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            paths.extend(_all_paths(entry, pattern))
        elif isinstance(entry, URLPattern):
            path = re.sub(r"<drf_format_suffix:\w+>", ".json", pattern)
            path = re.sub(r"<int:\w+>", "1", path)
            path = re.sub(r"<deal:\w+>", "2026-0001", path)
            path = re.sub(r"<(str:)?\w+>", "sales", path)
            path = re.sub(r"<path:\w+>", "x", path)
            path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.", ".")
            if re.search(r"[()\[\]?*+\\]", path):
                continue  # regex-only admin routes; the admin prefix is covered by the others
            paths.append("/" + path)
    return sorted(set(paths))


ALL_PATHS = _all_paths()


@pytest.mark.django_db
class TestAnonymousAccess:
    @pytest.mark.parametrize("path", [p for p in ALL_PATHS if p not in PUBLIC])
    def test_is_sent_to_login_or_refused_everywhere_but_the_login_page(self, client, path):
        if path.startswith("/api/"):
            assert client.get(path).status_code in (401, 403), path
            return
        response = client.get(path, follow=True)
        assert response.redirect_chain, path
        final_url = response.redirect_chain[-1][0]
        assert final_url.startswith(LOGIN), (path, final_url)
        assert response.status_code == 200

    def test_login_page_is_open_and_japanese(self, client):
        response = client.get(LOGIN)
        assert response.status_code == 200
        assert '<html lang="ja">' in response.content.decode()

    def test_static_files_are_served_without_login(self, client):
        response = client.get("/static/css/app.css")
        assert response.status_code == 200


@pytest.mark.django_db
class TestRoleHomes:
    def test_each_role_reaches_its_home(self, role_client, role):
        client = role_client(role)
        response = client.get("/", follow=True)
        assert response.redirect_chain[-1][0] == f"/home/{role}/"
        assert response.status_code == 200

    def test_each_role_is_refused_the_home_of_another_role(self, role_client, role):
        client = role_client(role)
        other = next(code for code in ROLE_CODES if code != role)
        response = client.get(f"/home/{other}/")
        assert response.status_code == 403
        assert "403" in response.content.decode()

    def test_a_user_without_a_role_is_told_so(self, client, make_user):
        client.force_login(make_user())
        assert client.get("/").status_code == 403

    def test_unknown_pages_get_the_japanese_404(self, role_client):
        response = role_client("sales").get("/no-such-page/")
        assert response.status_code == 404


AUDIT_ROLES = {"compliance", "admin"}
ALL_ALERTS_ROLES = {"compliance", "manager", "admin"}


@pytest.mark.django_db
class TestRolePages:
    def test_audit_log_is_for_compliance_and_admin_only(self, role_client, role):
        response = role_client(role).get("/audit/")
        assert response.status_code == (200 if role in AUDIT_ROLES else 403)

    def test_every_role_has_an_alert_inbox(self, role_client, role):
        assert role_client(role).get("/alerts/").status_code == 200

    def test_django_admin_is_for_the_admin_role_only(self, role_client, make_user, client, role):
        staff = role == "admin"
        logged_in = role_client(role, is_staff=staff)
        response = logged_in.get("/admin/")
        assert response.status_code == (200 if staff else 302)

    def test_api_refuses_alerts_to_a_user_without_view_permission(self, client, make_user):
        client.force_login(make_user())
        assert client.get("/api/alerts/").status_code == 403

    def test_api_lists_alerts_for_a_role(self, role_client, role):
        response = role_client(role).get("/api/alerts/")
        assert response.status_code == 200 and "results" in response.json()

    def test_api_schema_and_docs_need_a_login_and_work_with_one(self, client, role_client):
        assert client.get("/api/schema/").status_code in (401, 403)
        logged_in = role_client("sales")
        assert logged_in.get("/api/schema/").status_code == 200
        docs = logged_in.get("/api/docs/").content.decode()
        assert "/static/drf_spectacular_sidecar/" in docs and "cdn" not in docs.lower()


@pytest.mark.django_db
class TestRoleGroups:
    def test_every_role_exists_as_a_group_with_its_permissions(self, django_user_model):
        from django.contrib.auth.models import Group

        assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_CODES)
        compliance = Group.objects.get(name="compliance")
        codes = set(compliance.permissions.values_list("codename", flat=True))
        assert {"view_auditevent", "view_alert", "view_all_alerts"} <= codes
        sales = set(Group.objects.get(name="sales").permissions.values_list("codename", flat=True))
        assert "view_auditevent" not in sales


@pytest.mark.django_db
def test_every_permission_named_in_the_role_table_exists():
    from django.contrib.auth.models import Permission

    from accounts.roles import ROLES

    existing = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    missing = {perm for role in ROLES for perm in role.permissions} - existing
    assert not missing
