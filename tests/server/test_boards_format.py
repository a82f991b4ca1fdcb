"""Board files: format 2 keeps the grid layout, names and links; a format 1 file still opens."""

from __future__ import annotations

import json

import pytest

from weave_lite.server.boards import BOARD_FORMAT, BoardError, BoardStore


def test_layout_titles_and_links_round_trip(tmp_path):
    store = BoardStore(tmp_path)
    board = {
        "panels": [
            {"id": "p1", "kind": "table", "expr": "1", "title": "rows", "layout": {"x": 0, "y": 0, "w": 6, "h": 8}},
            {
                "id": "p2",
                "kind": "table",
                "expr": "2",
                "title": "by model",
                "layout": {"x": 6, "y": 0, "w": 6, "h": 8},
                "editor_hidden": True,
            },
        ],
        "links": [{"from": "p2", "to": "p1", "column": "model"}],
    }
    store.save("b", board)
    got = store.get("b")
    assert got["format"] == BOARD_FORMAT
    assert [p["layout"] for p in got["panels"]] == [p["layout"] for p in board["panels"]]
    assert got["links"] == board["links"]


def test_a_format_1_board_opens_with_its_panels_stacked(tmp_path):
    (tmp_path / "_boards").mkdir()
    old = {
        "name": "old",
        "panels": [{"id": "p1", "expr": "1"}, {"id": "p2", "kind": "plot", "expr": "2"}],
        "saved_at": "2024-05-01T00:00:00Z",
    }
    (tmp_path / "_boards" / "old.json").write_text(json.dumps(old))
    got = BoardStore(tmp_path).get("old")
    assert got["format"] == BOARD_FORMAT and got["links"] == []
    assert [p["layout"] for p in got["panels"]] == [
        {"x": 0, "y": 0, "w": 12, "h": 6},
        {"x": 0, "y": 6, "w": 12, "h": 6},
    ]
    assert [p["expr"] for p in got["panels"]] == ["1", "2"]


@pytest.mark.parametrize(
    "bad",
    [
        {"panels": [{"expr": "1", "layout": {"x": 8, "y": 0, "w": 6, "h": 4}}]},  # wider than the grid
        {"panels": [{"expr": "1", "layout": {"x": 0, "y": 0, "w": "6", "h": 4}}]},
        {"panels": [{"expr": "1", "title": 5}]},
        {"panels": [], "links": [{"from": "p1", "to": 2, "column": "model"}]},
    ],
)
def test_malformed_layout_titles_and_links_are_refused(tmp_path, bad):
    with pytest.raises(BoardError):
        BoardStore(tmp_path).save("b", bad)
