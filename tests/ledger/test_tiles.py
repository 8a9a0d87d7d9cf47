"""C2SP tlog-tiles paths, contents and entry bundles, served under /ledger/."""

from __future__ import annotations

import pytest

from tepat.ledger import merkle, tiles


@pytest.mark.parametrize(
    ("index", "path"),
    [(0, "000"), (5, "005"), (1234, "x001/234"), (1234067, "x001/x234/067")],
)
def test_tile_indexes_are_written_in_groups_of_three_digits(index, path):
    assert tiles.encode_index(index) == path
    assert tiles.parse_index_path(path) == (index, 256)


def test_partial_tiles_carry_their_width_in_the_path():
    assert tiles.tile_path(0, 1234067, 12) == "tile/0/x001/x234/067.p/12"
    assert tiles.parse_index_path("x001/x234/067.p/12") == (1234067, 12)


@pytest.mark.parametrize(
    "bad", ["1", "0001", "x000/001", "001.p/0", "001.p/256", "001.p/012", "../001"]
)
def test_malformed_tile_paths_are_refused(bad):
    with pytest.raises(tiles.TilePathError):
        tiles.parse_index_path(bad)


def test_extending_tiles_in_steps_matches_a_naive_tree():
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(70_000)]
    store: dict[tiles.TileKey, bytes] = {}
    size = 0
    for step in (1, 255, 1, 3000, 66_743):
        store.update(tiles.extend(size, leaves[size : size + step], lambda k: store.get(k, b"")))
        size += step
    assert size == 70_000
    tree = merkle.MemoryTree(leaves)
    node = lambda level, index: tiles.node_from_tiles(level, index, lambda k: store[k])  # noqa: E731
    assert merkle.root_hash(size, node) == tree.root()
    assert store[(1, 0)] == b"".join(tree.levels[8][:256])
    assert store[(2, 0)] == tree.levels[16][0]
    assert merkle.inclusion_proof(65_536, size, node) == merkle.inclusion_proof(
        65_536, size, tree.node
    )


def test_entry_bundles_are_length_prefixed_and_round_trip():
    bundle = tiles.entry_bundle([b"ab", b"", b"x" * 300])
    assert bundle[:4] == b"\x00\x02ab"
    assert tiles.parse_entry_bundle(bundle) == [b"ab", b"", b"x" * 300]
    with pytest.raises(ValueError, match="65535"):
        tiles.entry_bundle([b"x" * 70_000])


def test_the_log_is_served_as_tiles_a_client_can_follow(client, logged):
    logged(300, batch=100)
    cp = client.get("/ledger/checkpoint")
    assert cp.status_code == 200
    assert cp["Content-Type"].startswith("text/plain")
    _origin, size, root = cp.content.decode().split("\n")[:3]
    assert size == "300"
    full = client.get("/ledger/tile/0/000")
    partial = client.get("/ledger/tile/0/001.p/44")
    assert len(full.content) == 256 * 32
    assert len(partial.content) == 44 * 32
    assert "immutable" in full["Cache-Control"]
    leaves = tiles.split_hashes(full.content + partial.content)
    bundle = client.get("/ledger/tile/entries/000").content
    bodies = tiles.parse_entry_bundle(bundle) + tiles.parse_entry_bundle(
        client.get("/ledger/tile/entries/001.p/44").content
    )
    assert [merkle.leaf_hash(b) for b in bodies] == leaves
    import base64

    assert base64.b64encode(merkle.MemoryTree(leaves).root()).decode() == root


def test_tiles_not_yet_written_are_not_found(client, logged):
    logged(10)
    assert client.get("/ledger/tile/0/000").status_code == 404  # only 10 of 256
    assert client.get("/ledger/tile/0/000.p/11").status_code == 404
    assert client.get("/ledger/tile/0/000.p/10").status_code == 200
    assert client.get("/ledger/tile/entries/000.p/11").status_code == 404
    assert client.get("/ledger/tile/0/bad").status_code == 404


def test_upper_level_tiles_are_served_once_they_have_hashes(client, logged):
    logged(512 + 3, batch=200)
    level1 = client.get("/ledger/tile/1/000.p/2")
    assert level1.status_code == 200
    level0 = client.get("/ledger/tile/0/000").content + client.get("/ledger/tile/0/001").content
    hashes = tiles.split_hashes(level0)
    assert level1.content == tiles.subtree_root(hashes[:256]) + tiles.subtree_root(hashes[256:])
    assert client.get("/ledger/tile/1/000.p/3").status_code == 404
