"""The one resolver: settings file, `[env]`, environment, ini keys and flags -> a `Config`.

Every door builds its `Config` here, so the same project gives the same options,
models and environment whether it runs under pytest, `voicetest` or the Python API.
Run options, lowest first: defaults, the settings file's `[run]`, `VOICETEST_<OPTION>`
variables, then each door's own layers (pytest: ini keys, then `--vt-*` flags; CLI:
flags; API: `options=`). A bad value is reported with the layer and key that gave it.
Models per role: see `config.models` (command line, test, file defaults, settings,
environment, recorded cassette, agent config).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Hashable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from ..errors import InputError
from ..validation import describe
from .files import find_settings_file
from .models import ROLES, ResolvedModels, environment_models, resolve_models
from .settings import RunOptions, Settings, apply_env, read_settings

DEFAULT_STORE = Path(".voicetest") / "voicesim.db"
T = TypeVar("T")
HARNESS_TIMEOUTS = ("timeout_seconds", "turn_timeout_seconds")


@dataclass(frozen=True)
class Layer:
    """Option values from one source: `label` names it in errors, `names` maps a field to
    how the user spelled it there (e.g. `max_turns` -> `--vt-max-turns`; `pattern` spells the
    rest, unknown keys included). Its `models` sit
    at the command-line level of model precedence, or at the settings level when
    `models_are_settings` (pytest ini keys)."""

    label: str
    values: Mapping[str, Any]
    names: Mapping[str, str] = field(default_factory=dict)
    models: Mapping[str, str | None] = field(default_factory=dict)
    models_are_settings: bool = False
    pattern: str = "{}"

    def spelled(self, key: str) -> str:
        return self.names.get(key) or self.pattern.format(key)


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know that is not in the test files."""

    root: Path
    settings: Settings
    settings_path: Path | None
    options: RunOptions
    command_models: dict[str, str | None]
    settings_models: dict[str, str | None]
    environment_models: dict[str, str | None]
    warnings: tuple[str, ...] = ()
    started: float = field(default_factory=time.time)
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()`, worked out once per run for `key`: what a run reads from the project
        (a folder's real path, an agent file) is read once, as it was when first read."""
        try:
            found: T = self._memo[key]
        except KeyError:
            found = self._memo[key] = make()
        return found

    def real_path(self, path: Path) -> Path:
        """The path with every symlink followed, as `os.path.realpath()` gives it (a symlink
        loop is left as is, never an error); each folder's real path is worked out once per
        run, the file itself is looked at every time. A `..` after a symlink goes up from the
        link's target, as the system's own path lookup does."""
        raw = os.fspath(path)  # as written: no `..` is dropped before the symlinks are followed
        if not os.path.isabs(raw):
            raw = os.path.join(os.getcwd(), raw)
        folder, name = os.path.split(raw)
        if name in ("", ".", ".."):
            return Path(os.path.realpath(raw))
        try:
            linked = stat.S_ISLNK(os.lstat(raw).st_mode)
        except OSError:
            linked = False  # missing: where its folder puts it
        if linked:
            return Path(os.path.realpath(raw))
        return Path(self.memo(("real folder", folder), lambda: os.path.realpath(folder)), name)

    @property
    def cassette_mode(self) -> str | None:
        return "record" if self.options.record else ("replay" if self.options.replay else None)

    @property
    def cassette_dir(self) -> Path:
        return (self.root / self.options.cassette_dir).resolve()

    @property
    def store(self) -> str:
        """The VoiceSim store: a postgresql:// URL, or a SQLite path resolved from the root."""
        store = self.options.store
        if store and "://" in store:
            return store
        return str((self.root / (store or DEFAULT_STORE)).resolve())

    def models_for(
        self,
        *,
        test: Mapping[str, str | None],
        file_defaults: Mapping[str, str | None],
        graph_default: str | None,
        scripted: bool,
        recorded: Mapping[str, str | None] | None = None,
        test_default: Mapping[str, str | None] | None = None,
    ) -> ResolvedModels:
        """The models one test uses, with every substitution recorded."""
        return resolve_models(
            cli=self.command_models,
            test=test,
            file_defaults=file_defaults,
            settings=self.settings_models,
            environment=self.environment_models,
            recorded=recorded or {},
            test_default=test_default or {},
            graph_default=graph_default,
            test_model_precedence=self.options.test_model_precedence,
            scripted=scripted,
        )


def _merge(layers: Sequence[Layer], base: dict[str, Any]) -> RunOptions:
    values = dict(base)
    origin: dict[str, Layer] = {}
    for given in layers:
        for key, value in given.values.items():
            if value is None:
                continue
            if key not in RunOptions.model_fields:
                raise InputError(
                    f"unknown run option '{given.spelled(key)}'",
                    source=given.label,
                    field=given.spelled(key),
                    fix="use one of: " + ", ".join(RunOptions.model_fields),
                )
            values[key] = value
            origin[key] = given
            if key in HARNESS_TIMEOUTS and given.values.get("turn_timeout") is None:  # the harness's names, at this layer's rank
                values["turn_timeout"] = value
                origin["turn_timeout"] = given
    try:
        return RunOptions.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else ""
        message, fix = describe(error, RunOptions.model_fields)
        layer: Layer | None = origin.get(key)
        if layer is None:  # a cross-field rule (record and replay): blame the last layer that set one
            layer = next((origin[k] for k in ("replay", "record") if k in origin), None)
            if layer is not None:
                message = f"{layer.spelled('record')} and {layer.spelled('replay')} cannot both be on; pick one"
        label = layer.label if layer else "run options"
        spelled = layer.spelled(key) if layer and key else key
        raise InputError(message, source=label, field=spelled or None, fix=fix or "see `voicetest settings` for the options") from None


def resolve_config(
    root: Path,
    layers: Sequence[Layer] = (),
    *,
    environ: MutableMapping[str, str] | None = None,
) -> Config:
    """The Config of the project at `root`: settings file and environment, then `layers`
    (lowest first). Applies the settings' `[env]` table to `environ` (real variables win)."""
    environ = os.environ if environ is None else environ
    root = root.resolve()
    settings, warnings = read_settings(root, environ=dict(environ))
    found = find_settings_file(root)
    apply_env(settings, environ)
    options = _merge(layers, settings.run.model_dump(exclude_unset=False))
    command: dict[str, str | None] = {role: None for role in ROLES}
    configured = settings.models.model_dump()
    for role in ROLES:  # the harness's run options name models too: at the level they were given
        configured[role] = getattr(settings.run, f"{role}_model") or configured[role]
    for layer in layers:
        level = configured if layer.models_are_settings else command
        for role in ROLES:
            given = layer.models.get(role) or layer.values.get(f"{role}_model")
            if given:
                level[role] = given
    return Config(
        root=root,
        settings=settings.model_copy(update={"run": options}),
        settings_path=found[0] if found else None,
        options=options,
        command_models=command,
        settings_models=configured,
        environment_models=environment_models(environ),
        warnings=tuple(warnings),
    )
