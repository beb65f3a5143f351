"""Payload files: one event or a weighted list, interleaved in proportion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aws.invokers.payload import PayloadError, load_payloads


def test_no_file_sends_an_empty_event() -> None:
    assert load_payloads(None).next() == b"{}"


def test_a_plain_document_is_one_event(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps([1, 2, 3]))
    payloads = load_payloads(path)
    assert {payloads.next() for _ in range(3)} == {b"[1, 2, 3]"}


def test_weighted_events_are_interleaved_in_proportion(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(
        json.dumps([{"payload": {"n": "a"}, "weight": 3}, {"payload": {"n": "b"}, "weight": 1}])
    )
    payloads = load_payloads(path)
    sent = [json.loads(payloads.next())["n"] for _ in range(8)]
    assert sent.count("a") == 6 and sent.count("b") == 2
    assert sent[:4].count("b") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps([{"payload": 1, "weight": 0}]), "positive number"),
    ],
)
def test_bad_files_say_why(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PayloadError, match=message):
        load_payloads(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PayloadError, match="does not exist"):
        load_payloads(tmp_path / "nope.json")


def test_weighted_files_each_hold_one_event(tmp_path: Path) -> None:
    from aws.invokers.payload import load_weighted_payloads, parse_payload_spec

    (tmp_path / "a.json").write_text('{"n": 1}')
    (tmp_path / "b.json").write_text('{"n": 2}')
    specs = [
        parse_payload_spec(f"{tmp_path / 'a.json'}:3"),
        parse_payload_spec(str(tmp_path / "b.json")),
    ]
    assert specs[1] == (tmp_path / "b.json", 1.0)
    payloads = load_weighted_payloads(specs)
    sent = [json.loads(payloads.next()) for _ in range(8)]
    assert sent.count({"n": 1}) == 6 and sent.count({"n": 2}) == 2


def test_bad_weights_and_nested_weighted_lists_are_one_sentence(tmp_path: Path) -> None:
    from aws.invokers.payload import PayloadError, load_weighted_payloads, parse_payload_spec

    with pytest.raises(PayloadError, match="positive number"):
        parse_payload_spec("a.json:-1")
    nested = tmp_path / "w.json"
    nested.write_text('[{"payload": {}, "weight": 1}]')
    with pytest.raises(PayloadError, match="weighted list"):
        load_weighted_payloads([(nested, 2.0), (nested, 1.0)])
