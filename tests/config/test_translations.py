"""The ja catalogue covers every string in the source, with nothing fuzzy or untranslated."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
SKIP = shutil.ignore_patterns(
    ".venv", "node_modules", "tests", "bench", "static", "staticfiles", "test-artifacts",
    ".git", "__pycache__", "*.sqlite3", "*.mo", "media",
)  # fmt: skip


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> polib.POFile:
    """Extract the strings from a copy of the source, merged into a copy of the catalogue."""
    if shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext is missing: `make install` installs it")
    copy = tmp_path_factory.mktemp("src") / "project"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ja", "--no-obsolete", "-v", "0"],
        cwd=copy,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "PYTHONPATH": str(copy),
        },
    )
    return polib.pofile(str(copy / "locale" / "ja" / "LC_MESSAGES" / "django.po"))


def test_every_source_string_has_a_japanese_translation(regenerated):
    missing = [entry.msgid for entry in regenerated.untranslated_entries()]
    assert not missing, f"untranslated strings (run `make messages` and translate): {missing}"


def test_no_translation_is_fuzzy(regenerated):
    fuzzy = [entry.msgid for entry in regenerated.fuzzy_entries()]
    assert not fuzzy, f"fuzzy translations to review: {fuzzy}"


def test_the_committed_catalogue_is_up_to_date(regenerated):
    committed = {entry.msgid for entry in polib.pofile(str(CATALOGUE))}
    current = {entry.msgid for entry in regenerated}
    assert current == committed, (
        f"run `make messages`: new {current - committed}, stale {committed - current}"
    )


def test_the_default_language_is_japanese():
    assert settings.LANGUAGE_CODE == "ja" and settings.TIME_ZONE == "Asia/Tokyo"


@pytest.mark.django_db
def test_pages_are_japanese_even_when_the_browser_asks_for_english(client):
    body = client.get("/accounts/login/", headers={"Accept-Language": "en-US,en"}).content.decode()
    assert '<html lang="ja">' in body and "ログイン" in body
