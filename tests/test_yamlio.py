"""Safe YAML loading with line numbers, and the refusals that keep hostile files harmless."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_voicetest.errors import InputError
from pytest_voicetest.yamlio import MAX_DEPTH, _cyclic_gc_paused, _plain_scalar_tag, line_of, load_data_file, parse_yaml, read_bytes, read_text


def test_lines_of_keys_and_items() -> None:
    data = parse_yaml("agent: a.json\ntests:\n  - name: one\n    includes: [x]\n  - name: two\n")
    assert line_of(data, ("agent",)) == 1
    assert line_of(data, ("tests", 1)) == 5
    assert line_of(data, ("tests", 0, "includes")) == 4
    assert line_of(data, ("tests", 0, "missing", "deeper")) == 3


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(InputError, match=r"^f.yaml:3: duplicate key 'name' \(first at line 2\)"):
        parse_yaml("tests:\n  - name: a\n    name: b\n", "f.yaml")


def test_object_building_tags_are_refused() -> None:
    text = "x: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(InputError, match=r"f.yaml:1: .*tags that build objects are not allowed"):
        parse_yaml(text, "f.yaml")


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(InputError, match=r"f.yaml:4: invalid YAML: .*while parsing a flow sequence at line 3"):
        parse_yaml("a: 1\nb:\n  - [unclosed\n", "f.yaml")


def test_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 9):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]")
    with pytest.raises(InputError, match="alias bomb"):
        parse_yaml("\n".join(lines), "bomb.yaml")


def test_deep_nesting_is_refused() -> None:
    text = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    with pytest.raises(InputError, match="nest"):
        parse_yaml(text, "deep.yaml")


@pytest.mark.parametrize("alias", ["", "x: &x 1\ny: *x\n"], ids=["plain", "with an alias"])
def test_the_depth_limit_is_the_same_with_or_without_aliases(alias: str) -> None:
    """Documents with aliases are measured before they are built, the others while they are built."""
    levels = MAX_DEPTH - 1  # inside the top-level mapping
    assert parse_yaml(alias + "z: " + "[" * levels + "1" + "]" * levels, "deep.yaml") is not None
    assert parse_yaml(alias + "z: " + "{a: " * levels + "1" + "}" * levels, "deep.yaml") is not None
    with pytest.raises(InputError, match=f"deep.yaml:{3 if alias else 1}: the document nests deeper than {MAX_DEPTH} levels"):
        parse_yaml(alias + "z: " + "[" * (levels + 1) + "1" + "]" * (levels + 1), "deep.yaml")


def test_huge_and_binary_files(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * 10)
    with pytest.raises(InputError, match="more than the 0 MB limit"):
        read_text(big, max_bytes=10)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        read_text(binary)
    with pytest.raises(InputError, match="file not found"):
        read_text(tmp_path / "missing.yaml")


def test_json_errors_carry_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{\n  "a": 1,\n  "b": ,\n}')
    with pytest.raises(InputError, match=r"a.json:3: invalid JSON"):
        load_data_file(path)


def test_unquoted_dates_stay_strings() -> None:
    data = parse_yaml("dob: 1985-01-15\nwhen: 2026-11-23 10:00:00\nturns: 3\nok: true\n")
    assert data == {"dob": "1985-01-15", "when": "2026-11-23 10:00:00", "turns": 3, "ok": True}


def test_merge_keys_are_overridden_by_the_mappings_own_keys_and_earlier_merges_win() -> None:
    data = parse_yaml("a: &a {k: 1, m: 1}\nb: &b {k: 2, n: 2}\nx:\n  <<: [*a, *b]\n  m: 3\n", "f.yaml")
    assert data["x"] == {"k": 1, "m": 3, "n": 2}
    with pytest.raises(InputError, match=r"f.yaml:5: duplicate key 'm' \(first at line 4\)"):
        parse_yaml("a: &a {m: 1}\nx:\n  <<: *a\n  m: 2\n  m: 3\n", "f.yaml")


@pytest.mark.parametrize("tagged", ["!!set {a, b}", "!!binary aGVsbG8=", "!!omap [{a: 1}]", "!!pairs [{a: 1}]", "!!timestamp 2001-01-01"])
def test_tags_that_build_non_json_values_are_refused(tagged: str) -> None:
    with pytest.raises(InputError, match=rf"f.yaml:1: !!{tagged[2:].split()[0]} builds no JSON value"):
        parse_yaml(f"x: {tagged}\n", "f.yaml")


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=80), st.sampled_from(["", "~", "null", "True", "no", "0x1f", "0o17", "1_000", "-.inf", ".NaN", "1e3", "+12", "3.", "0b101"])
    )
)
def test_plain_scalars_get_the_tags_pyyamls_resolver_gives(value: str) -> None:
    loader = yaml.SafeLoader("")
    loader.yaml_implicit_resolvers = {  # PyYAML's own table, less timestamps (dates stay text)
        first: [(tag, pattern) for tag, pattern in resolvers if not tag.endswith(":timestamp")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    expected = loader.resolve(yaml.ScalarNode, value, (True, False))
    assert _plain_scalar_tag(value) == expected
    assert _plain_scalar_tag(value) == expected  # and again, from the cache


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("text", ["a: 1\nb: [x, y]\n", "a: [\n"])
def test_parsing_leaves_the_cyclic_collector_as_it_found_it(enabled: bool, text: str) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        try:
            parse_yaml(text)
        except InputError:
            pass
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_overlapping_parses_share_one_pause_of_the_collector() -> None:
    """Two threads parsing at once: the collector is back on only when the last one ends."""
    was = gc.isenabled()
    gc.enable()
    try:
        first, second = _cyclic_gc_paused(), _cyclic_gc_paused()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert not gc.isenabled()
        second.__exit__(None, None, None)
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def test_a_file_longer_than_its_reported_size_is_read_whole_within_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files that grew after they were looked at, and /proc files that report no size."""
    path = tmp_path / "grown.yaml"
    path.write_bytes(b"a: 1\n" * 100)
    real_stat = Path.stat
    monkeypatch.setattr(Path, "stat", lambda self, **kw: os.stat_result((*real_stat(self, **kw)[:6], 0, *real_stat(self, **kw)[7:])))
    assert path.stat().st_size == 0
    assert read_bytes(path) == b"a: 1\n" * 100
    with pytest.raises(InputError, match="grown.yaml: file is .* MB, more than the .* MB limit"):
        read_bytes(path, max_bytes=499)
    assert len(read_bytes(path, max_bytes=500)) == 500


def test_merge_keys_nested_too_deeply_are_refused() -> None:
    nested = "a: " + "{<<: " * (MAX_DEPTH + 5) + "{b: 1}" + "}" * (MAX_DEPTH + 5)
    with pytest.raises(InputError, match=f"nests deeper than {MAX_DEPTH} levels"):
        parse_yaml(nested, "merge.yaml")
    assert parse_yaml("a: {<<: {<<: {b: 1}}}", "merge.yaml") == {"a": {"b": 1}}


def test_an_alias_counts_as_deep_as_it_is_used() -> None:
    """Anchors that each nest 40 levels and wrap the one before build a 120-level document."""
    levels = 40
    chain = "a0: &a0 " + "[" * levels + "1" + "]" * levels
    for n in (1, 2):
        chain += f"\na{n}: &a{n} " + "[" * levels + f"*a{n - 1}" + "]" * levels
    with pytest.raises(InputError, match=f"chain.yaml:3: the document nests deeper than {MAX_DEPTH} levels"):
        parse_yaml(chain, "chain.yaml")
    assert parse_yaml(chain.rsplit("\n", 1)[0], "chain.yaml")["a1"][0]  # 81 levels: within the limit
