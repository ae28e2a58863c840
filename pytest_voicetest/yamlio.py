"""Safe YAML/JSON loading that remembers the line of every key and list item.

Documents load with libyaml's safe parser when available (no object-building tags),
duplicate keys are errors, and alias bombs, deep nesting and oversized files are
refused with a clear message instead of exhausting memory or the stack.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_EXPANDED_NODES = 200_000
MAX_DEPTH = 100
SMALL_DOCUMENT = 20_000

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict[Any, Any]):
    """A dict that knows the 1-based line of each key."""

    __slots__ = ("lines", "line")
    lines: dict[Any, int]
    line: int


class LineList(list[Any]):
    """A list that knows the 1-based line of each item."""

    __slots__ = ("lines", "line")
    lines: list[int]
    line: int


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that builds LineDict/LineList and rejects duplicate keys.

    Unquoted dates stay strings (no YAML 1.1 timestamps): `dob: 1985-01-15` means the text.
    """

    depth = 0  # how deep the mapping or list being built now is

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """The tag of a node, as PyYAML's resolver gives it (this loader has no path
        resolvers), with plain scalars looked up once per distinct short value."""
        if kind is yaml.ScalarNode:
            if implicit[0]:
                return _RESOLVED.get(value) or _plain_scalar_tag(value)
            return _STR
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers here: nothing to track while composing."""

    def ascend_resolver(self) -> None:
        """No path resolvers here: nothing to track while composing."""


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_IMPLICIT = _LineLoader.yaml_implicit_resolvers
_RESOLVED: dict[str, str] = {}
_RESOLVED_MAX, _RESOLVED_VALUE_MAX = 65_536, 64


def _plain_scalar_tag(value: str) -> str:
    """The tag of a plain (unquoted) scalar: null, bool, int, float or str."""
    tag = _RESOLVED.get(value)
    if tag is None:
        tag = _STR
        for candidate, pattern in _IMPLICIT.get(value[:1], []) + _IMPLICIT.get(None, []):
            if pattern.match(value):
                tag = candidate
                break
        if len(value) <= _RESOLVED_VALUE_MAX and len(_RESOLVED) < _RESOLVED_MAX:
            _RESOLVED[value] = tag
    return tag


_SPECIAL_KEYS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})


def _construct(loader: _LineLoader, node: yaml.Node) -> Any:
    """`loader.construct_object(node, deep=True)`, with its per-node bookkeeping skipped for
    plain strings, mappings and lists (nearly every node): a string is its text; a mapping
    or list is built once per node (an alias gets the same object). Other tags take the
    general path. Recursive aliases never get here: the size and depth checks refuse them."""
    kind = type(node)
    if kind is yaml.ScalarNode:
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    built = loader.constructed_objects.get(node)
    if built is not None:
        return built
    if kind is yaml.MappingNode and node.tag == _MAP:
        built = _construct_mapping(loader, node)
    elif kind is yaml.SequenceNode and node.tag == _SEQ:
        built = _construct_sequence(loader, node)
    else:
        return loader.construct_object(node, deep=True)
    loader.constructed_objects[node] = built
    return built


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    _descend(loader, node)
    merged = 0  # flattening puts the merged pairs first: later ones, and the mapping's own keys, override them
    if any(key.tag in _SPECIAL_KEYS for key, _ in node.value):  # merge keys (<<) and '=' keys
        explicit = sum(key.tag not in _SPECIAL_KEYS for key, _ in node.value)
        loader.flatten_mapping(node)
        merged = len(node.value) - explicit
    result = LineDict()
    result.lines = {}
    result.line = node.start_mark.line + 1
    own: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = _construct(loader, key_node)
        try:
            hash(key)
        except TypeError:
            raise InputError(
                "a mapping key must be a plain value, not a list or mapping",
                line=key_node.start_mark.line + 1,
            ) from None
        if index >= merged and key in own:
            raise InputError(
                f"duplicate key '{key}' (first at line {result.lines[key]})",
                line=key_node.start_mark.line + 1,
                fix="keep one of the two entries",
            )
        if index >= merged:
            own.add(key)
        result[key] = _construct(loader, value_node)
        result.lines[key] = key_node.start_mark.line + 1
    loader.depth -= 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    _descend(loader, node)
    result = LineList([_construct(loader, child) for child in node.value])
    result.lines = [child.start_mark.line + 1 for child in node.value]
    result.line = node.start_mark.line + 1
    loader.depth -= 1
    return result


def _descend(loader: _LineLoader, node: yaml.Node) -> None:
    """One level deeper into the document; refused beyond MAX_DEPTH (before Python's stack runs out)."""
    loader.depth += 1
    if loader.depth > MAX_DEPTH:
        raise _too_deep(node)


def _refuse(loader: _LineLoader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(None, None, f"!!{node.tag.rsplit(':', 1)[-1]} builds no JSON value", node.start_mark)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
for _tag in ("set", "omap", "pairs", "binary", "timestamp"):  # sets, ordered pairs, bytes, datetimes
    _LineLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)


def _check_size(node: yaml.Node) -> None:
    """Refuse documents that nest too deeply or expand (through aliases) too much; an alias
    counts as all it names, as deep as it is used."""
    measured: dict[int, tuple[int, int]] = {}  # node id -> (values it expands to, levels below it)

    def measure(current: yaml.Node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise _too_deep(current)
        total, below = 1, 0
        if isinstance(current, yaml.MappingNode):
            children = [child for pair in current.value for child in pair]
        else:
            children = current.value if isinstance(current, yaml.SequenceNode) else []
        for child in children:
            known = measured.get(id(child))  # an alias: what it names, measured where it was defined
            if known is not None and depth + 1 + known[1] > MAX_DEPTH:
                raise _too_deep(current)  # where the alias is used
            size, height = known or measure(child, depth + 1)
            total, below = total + size, max(below, height + 1)
        if total > MAX_EXPANDED_NODES:
            raise InputError(
                f"the document expands to more than {MAX_EXPANDED_NODES} values (alias bomb?)",
                line=current.start_mark.line + 1,
                fix="remove the repeated aliases",
            )
        measured[id(current)] = (total, below)
        return total, below

    measure(node, 0)


def _too_deep(node: yaml.Node) -> InputError:
    return InputError(f"the document nests deeper than {MAX_DEPTH} levels", line=node.start_mark.line + 1, fix="flatten the structure")


_gc_pause_lock = threading.Lock()
_gc_pauses = [0, False]  # documents being built now; whether the collector was on before the first


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Building a document allocates thousands of short-lived objects without cycles; the
    cyclic collector would only rescan the process's heap meanwhile (bounded: documents
    are size- and depth-capped). Threads parsing at once share one pause: the collector
    is back as it was when the last one finishes."""
    with _gc_pause_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_pause_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def parse_yaml(text: str, source: str | Path | None = None) -> Any:
    """Parse one YAML document safely into LineDict/LineList values."""
    with _cyclic_gc_paused():
        return _parse_yaml(text, source)


def _parse_yaml(text: str, source: str | Path | None) -> Any:
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text or "<<" in text or len(text) > SMALL_DOCUMENT:
            _check_size(node)
        # else: without aliases or merge keys a small file cannot explode; its depth is checked while it is built
        return loader.construct_document(node)
    except InputError as exc:
        raise exc.located(source) from None
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        tag = getattr(exc, "problem", "") or "unsupported tag"
        raise InputError(
            f"{tag}; tags that build objects are not allowed",
            source=source,
            line=line,
            fix="remove the '!' tag and write plain data",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise InputError(
            f"invalid YAML: {problem}",
            source=source,
            line=line,
            fix="check indentation, quotes and colons on that line",
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", source=source) from None
    except RecursionError:
        raise InputError("the document nests too deeply to read", source=source, fix="flatten the structure") from None
    finally:
        loader.dispose()


def file_status(path: Path) -> os.stat_result:
    """The status of a regular file; missing files, FIFOs, devices and folders are refused
    clearly (never opened, so never blocked on)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError("file not found", source=path, fix="check the path") from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", source=path) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe, socket or device)"
        raise InputError(f"{kind}, not a file to read", source=path, fix="point at a regular file")
    return info


def read_bytes(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file of at most `max_bytes` (see `file_status` for what is refused)."""
    size = file_status(path).st_size
    if size <= max_bytes:
        try:
            with path.open("rb") as handle:
                data = handle.read(size + 1)  # a buffer of the file's size, not of the limit
                if len(data) > size:  # it grew while we looked (or, like /proc files, gave no size)
                    data += handle.read(max_bytes + 1 - len(data))
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror}", source=path) from None
        if len(data) <= max_bytes:
            return data
        size = len(data)
    raise InputError(f"file is {size / 1e6:.1f} MB, more than the {max_bytes / 1e6:.0f} MB limit", source=path, fix="split it into smaller files")


def read_text(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file, refusing missing, oversized, binary or non-regular files clearly."""
    data = read_bytes(path, max_bytes=max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=path, fix="save the file as UTF-8") from None


def load_data_file(path: Path) -> Any:
    """Load a .json, .yaml or .yml file; JSON errors carry line numbers too."""
    text = read_text(path)
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON: {exc.msg} (column {exc.colno})",
                source=path,
                line=exc.lineno,
                fix="check commas, quotes and brackets on that line",
            ) from None
        except RecursionError:
            raise InputError("the JSON nests too deeply to read", source=path) from None
    return parse_yaml(text, path)


def line_of(data: Any, loc: Sequence[Any]) -> int | None:
    """The line of the deepest element of `loc` that the loaded data knows about."""
    line = getattr(data, "line", None)
    current = data
    for part in loc:
        if isinstance(current, LineDict) and part in current:
            line = current.lines.get(part, line)
            current = current[part]
        elif isinstance(current, LineList) and isinstance(part, int) and 0 <= part < len(current):
            line = current.lines[part]
            current = current[part]
        else:
            break
    return line


def format_loc(loc: Sequence[Any]) -> str:
    """Render a pydantic location like ('tests', 0, 'name') as tests[0].name."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
