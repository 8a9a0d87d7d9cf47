import pytest

from tests.transparency.builders import published  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _opendata_root(settings, tmp_path):
    """Releases are written and served only under the open-data root: here, the test's tmp_path
    (the tests export with out=tmp_path)."""
    settings.TRANSPARENCY_OPENDATA_DIR = tmp_path
