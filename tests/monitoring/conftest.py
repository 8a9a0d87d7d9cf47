from tests.transparency.builders import published  # noqa: F401 (a fixture)
