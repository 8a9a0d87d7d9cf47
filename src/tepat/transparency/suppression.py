"""Small-cell suppression for counts published over the region hierarchy.

The rule lives in the shared kernel (`tepat.core.disclosure`), so that the transparency log that
payments write follows the very rule the open data follows; see there for how it works.
"""

from __future__ import annotations

from tepat.core.disclosure import (
    ROOT,
    is_small,
    parent_code,
    published_areas,
    suppress_tree,
    tree_of,
)

__all__ = ["ROOT", "is_small", "parent_code", "published_areas", "suppress_tree", "tree_of"]
