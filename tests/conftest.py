"""Shared fixtures: a small named cast of staff users, as STYLE.md asks."""

from __future__ import annotations

import os

import pytest

SHARED = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


def shared_path(*parts: str) -> str:
    """A file under ../shared (reference data); tests using it skip when it is absent."""
    return os.path.join(SHARED, *parts)


@pytest.fixture
def shared_file():
    def _get(*parts: str) -> str:
        path = shared_path(*parts)
        if not os.path.exists(path):
            pytest.skip(
                f"reference file {path} is absent (../shared is not checked out beside the repo)"
            )
        return path

    return _get


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (Bahasa Indonesia): a test that switches to
    English (a view with ?lang=en, translation.activate) must not change the next test's
    messages on the same worker thread."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def _ledger_state_root(tmp_path_factory):
    return tmp_path_factory.mktemp("ledger-state")


@pytest.fixture(autouse=True)
def _ledger_state_dir(_ledger_state_root, request, settings):
    """Each test gets its own ledger anchor folder (the last checkpoint the sequencer signed,
    kept outside the database): the test database starts empty for every test, which to the
    sequencer would look like a log whose signed history was removed."""
    settings.LEDGER_STATE_DIR = str(_ledger_state_root / f"t{id(request.node)}")
