"""Pattern packs: load, validate and compile signatures and rules; match records against them.

A pack is a TOML file (see DESIGN.md, "Pattern packs"). Built-in packs ship in the
`logscan.packs` package; a user's packs come after them and replace a built-in signature or
rule with the same id or kind. Any defect stops loading with a PatternError naming the file, the
item and the reason, because a signature that silently never matches is worse than none.
"""

from __future__ import annotations

import importlib
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from logscan.access import Access
from logscan.budget import MATCH_TIMEOUT_S, Budget
from logscan.errors import PatternError
from logscan.model import Fields, Line, Match
from logscan.prefilter import Prefilter
from logscan.rules import Rule, parse_rule

_MADE_CACHE = 4096  # distinct group values remembered per signature (paths can vary without end)
_SIGNATURE_KEYS = {"id", "signal", "regex", "literals", "fields", "samples", "description"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """One log shape and the signal it emits."""

    id: str
    signal: str
    pattern: regex.Pattern[str]
    literals: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]
    samples: tuple[str, ...]
    description: str
    pack: str
    # The group names and numbers when every group is named once (the usual case): reading
    # the groups by number is several times faster than groupdict(), with the same result.
    _groups: tuple[tuple[str, ...], tuple[int, ...]] | None = field(
        init=False, repr=False, compare=False
    )
    # The fields made from the groups' values: the same values come again and again.
    _made: dict[tuple[str | None, ...], Fields] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = self.pattern.groupindex
        plain = len(index) == self.pattern.groups > 1
        groups = (tuple(index), tuple(index.values())) if plain else None
        object.__setattr__(self, "_groups", groups)
        object.__setattr__(self, "_made", {})

    def match(self, line: Line, budget: Budget | None = None) -> Match | None:
        """The Match for `line`, or None; raises TimeoutError past MATCH_TIMEOUT_S (kept by
        `budget` when given, else by the regex package)."""
        fields = self.capture(line.text, budget)
        if fields is None:
            return None
        return Match(signature=self.id, signal=self.signal, fields=fields, line=line)

    def capture(self, text: str, budget: Budget | None = None) -> Fields | None:
        """The fields of a match in `text` (the pack's, then the named groups), or None."""
        if budget is None:
            found = self.pattern.search(text, timeout=MATCH_TIMEOUT_S)
        else:
            found = budget.search(self.pattern, text)
        if found is None:
            return None
        if self._groups is None:
            return self.fields + tuple(
                (k, v) for k, v in found.groupdict().items() if v is not None
            )
        return self.fields_of(found.group(*self._groups[1]))

    def fields_of(self, values: tuple[str | None, ...]) -> Fields:
        """The fields of a match whose groups, in number order, have `values` (for a
        signature whose groups are each named once)."""
        made = self._made.get(values)
        if made is not None:
            return made
        assert self._groups is not None
        names = self._groups[0]
        captured = tuple((k, v) for k, v in zip(names, values, strict=True) if v is not None)
        made = self.fields + captured
        if len(self._made) < _MADE_CACHE:
            self._made[values] = made
        return made


@dataclass(frozen=True, slots=True, kw_only=True)
class PatternSet:
    """The signatures (in priority order: the first that matches wins) and the rules."""

    signatures: tuple[Signature, ...]
    rules: tuple[Rule, ...]
    prefilter: Prefilter[Signature] = field(init=False, repr=False, compare=False)
    access: Access | None = field(init=False, repr=False, compare=False)  # see access.py

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefilter", Prefilter(self.signatures))
        object.__setattr__(self, "access", Access.of(self.signatures, self.prefilter))

    def match(
        self, line: Line, timeouts: Counter[str] | None = None, budget: Budget | None = None
    ) -> Match | None:
        """The first signature's Match for `line`; a signature that blows its time budget is
        counted in `timeouts` and skipped, so one bad regex cannot stall the stream."""
        found = self.find(line, timeouts, budget)
        if found is None:
            return None
        signature, fields = found
        return Match(signature=signature.id, signal=signature.signal, fields=fields, line=line)

    def find(
        self, line: Line, timeouts: Counter[str] | None = None, budget: Budget | None = None
    ) -> tuple[Signature, Fields] | None:
        """What `match` finds, before it is made a Match: the signature and its fields."""
        literals = line.literals
        if literals is None:
            candidates = self.prefilter.candidates(line.text)
        else:
            candidates = self.prefilter.admitted(literals)
        for signature in candidates:
            try:
                fields = signature.capture(line.text, budget)
            except TimeoutError:
                if timeouts is not None:
                    timeouts[signature.id] += 1
                continue
            if fields is not None:
                return signature, fields
        return None


def builtin_pack_paths() -> list[Path]:
    """The built-in packs, in their fixed load order (file name order)."""
    # The directory of the logscan.packs package (patterns/ in a checkout, logscan/packs/ when
    # installed), which importlib.resources.files() would give: importing that costs ~15 ms.
    [root] = importlib.import_module("logscan.packs").__path__
    return sorted(path for path in Path(root).iterdir() if path.name.endswith(".toml"))


def load_patterns(extra: Sequence[Path] = (), *, builtin: bool = True) -> PatternSet:
    """Built-in packs (unless `builtin` is false), then each path in `extra` (file or dir)."""
    paths = builtin_pack_paths() if builtin else []
    for path in extra:
        paths.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    signatures: dict[str, Signature] = {}
    rules: dict[str, Rule] = {}
    for path in paths:
        pack_signatures, pack_rules = load_pack(path)
        # A later pack replaces an earlier item with the same id, keeping its priority slot.
        signatures.update((s.id, s) for s in pack_signatures)
        rules.update((r.kind, r) for r in pack_rules)
    return PatternSet(signatures=tuple(signatures.values()), rules=tuple(rules.values()))


def load_pack(path: Path) -> tuple[list[Signature], list[Rule]]:
    """The signatures and rules of one pack file."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PatternError(str(path), "", f"cannot read: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PatternError(str(path), "", f"not valid TOML: {error}") from None
    if unknown := sorted(set(document) - {"signature", "rule", "pack"}):
        raise PatternError(str(path), "", f"unknown table {unknown[0]!r}")
    pack = path.stem
    signatures = [_signature(path, item, pack) for item in _tables(path, document, "signature")]
    _refuse_duplicates(path, [s.id for s in signatures], "signature")
    rules = []
    for item in _tables(path, document, "rule"):
        try:
            rules.append(parse_rule(item, pack))
        except ValueError as error:
            raise PatternError(str(path), f"rule {item.get('kind', '?')}", str(error)) from None
    _refuse_duplicates(path, [r.kind for r in rules], "rule")
    return signatures, rules


def _tables(path: Path, document: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = document.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise PatternError(str(path), "", f"{key!r} must be an array of tables ([[{key}]])")
    return items


def _signature(path: Path, table: Mapping[str, Any], pack: str) -> Signature:
    ident = table.get("id")
    if not isinstance(ident, str) or not ident:
        raise PatternError(str(path), "signature ?", "'id' must be a non-empty string")
    try:
        return _build_signature(table, pack)
    except ValueError as error:
        raise PatternError(str(path), f"signature {ident}", str(error)) from None


def _build_signature(table: Mapping[str, Any], pack: str) -> Signature:
    if unknown := sorted(set(table) - _SIGNATURE_KEYS):
        raise ValueError(f"unknown key {unknown[0]!r}")
    for key in ("signal", "regex"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise ValueError(f"{key!r} must be a non-empty string")
    try:
        pattern = regex.compile(table["regex"])
    except regex.error as error:
        raise ValueError(f"bad regex: {error}") from None
    literals = _string_list(table, "literals", required=True)
    samples = _string_list(table, "samples", required=True)
    fields = table.get("fields", {})
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise ValueError("'fields' must be a table of strings")
    signature = Signature(
        id=table["id"],
        signal=table["signal"],
        pattern=pattern,
        literals=tuple(literals),
        fields=tuple(fields.items()),
        samples=tuple(samples),
        description=str(table.get("description", "")),
        pack=pack,
    )
    _check_samples(signature)
    return signature


def _check_samples(signature: Signature) -> None:
    """Each sample must match, and must contain a literal (else the prefilter would hide it)."""
    for sample in signature.samples:
        if not any(literal in sample for literal in signature.literals):
            raise ValueError(f"sample contains none of the literals: {sample!r}")
        if signature.pattern.search(sample) is None:
            raise ValueError(f"regex does not match its sample: {sample!r}")


def _string_list(table: Mapping[str, Any], key: str, *, required: bool) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{key!r} must be a list of non-empty strings")
    if required and not value:
        raise ValueError(f"{key!r} must have at least one entry")
    return value


def _refuse_duplicates(path: Path, names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise PatternError(str(path), f"{what} {name}", "duplicate id in this pack")
        seen.add(name)
