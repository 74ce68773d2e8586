"""The spec's own JSON Schemas, used to judge request bodies and headers.

The server loads `openapi/synap.yaml` (in a checkout) or the copy shipped in the wheel as
`synap/server/synap.yaml`, so client and server are built from one document. Validation
failures come out FastAPI style: `{"loc": [...], "msg": "...", "type": "..."}`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import jsonschema
import yaml

# A checkout first (the spec being edited is the truth), then the copy inside the wheel.
SPEC_LOCATIONS = (
    Path(__file__).resolve().parents[2] / "openapi" / "synap.yaml",
    Path(__file__).resolve().parent / "synap.yaml",
)

ErrorItem = dict[str, Any]
"""One validation failure: `{"loc": [...], "msg": str, "type": str}`."""


def spec_path() -> Path:
    """Where the spec is read from: the checkout's `openapi/synap.yaml` or the wheel's copy."""
    for candidate in SPEC_LOCATIONS:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "synap's OpenAPI document is missing: looked for "
        + " and ".join(str(p) for p in SPEC_LOCATIONS)
    )


@cache
def load_spec() -> dict[str, Any]:
    """The parsed OpenAPI document (cached)."""
    with spec_path().open(encoding="utf-8") as f:
        spec: dict[str, Any] = yaml.safe_load(f)
    return spec


# RFC 3339 date-time, the meaning of `format: date-time`: an offset is required.
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)


# The canonical spelling: certainly a UUID (anything else is judged by `UUID()` below).
_CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII
)


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True  # `format` only constrains strings
    if _CANONICAL_UUID.fullmatch(value):
        return True
    if len(value) != 36 or any(value[i] != "-" for i in (8, 13, 18, 23)):
        return False
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# Our own checkers, so validation does not depend on which optional packages are installed.
_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("uuid")(_is_uuid)
_FORMATS.checks("date-time")(_is_date_time)
_OUR_FORMATS: dict[str, Callable[[object], bool]] = {
    "uuid": _is_uuid,
    "date-time": _is_date_time,
}

# -- the quick check -----------------------------------------------------------------------
#
# jsonschema walks a schema through generic machinery (a validator object per keyword and
# level), which made validation most of the server's work per message. `_quick_check` turns a
# schema into a plain function that answers True only for instances jsonschema accepts too;
# when it answers False (or the schema uses a keyword it does not know: None), jsonschema
# judges the instance and words the errors as before. So the answers never change.

_UNSET: Any = object()
Check = Callable[[Any], bool]

# Keywords that never reject anything (jsonschema ignores them as well).
_ANNOTATIONS = frozenset(
    ("description", "title", "default", "example", "examples", "deprecated", "readOnly",
     "writeOnly", "$comment", "nullable")
)  # fmt: skip
# The Python types JSON gives each schema type. Exact types only: anything else (a subclass, a
# float holding an integer) is left to jsonschema.
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "null": (type(None),),
    "integer": (int,),
    "number": (int, float),
}
_JSON_TYPES = frozenset(t for types in _PY_TYPES.values() for t in types)


def _quick_types(spec: object) -> frozenset[type] | None:
    names = [spec] if isinstance(spec, str) else spec
    if not isinstance(names, list) or not all(n in _PY_TYPES for n in names):
        return None
    return frozenset(t for n in names for t in _PY_TYPES[n])


def _surely_rejects(type_keyword: object, instance: Any) -> bool:
    """Whether a `type` keyword certainly rejects `instance` (to judge `oneOf` branches)."""
    types = _quick_types(type_keyword)
    kind = type(instance)
    if types is None or kind not in _JSON_TYPES or kind in types:
        return False
    # jsonschema counts 1.0 as an integer; leave that to it.
    names = [type_keyword] if isinstance(type_keyword, str) else type_keyword
    return not (kind is float and "integer" in names)  # type: ignore[operator]


def _quick_check(schema: object) -> Check | None:
    """A function answering True for instances `schema` certainly accepts, or None when the
    schema uses a keyword this does not implement."""
    if schema is True or schema == {}:
        return lambda instance: True
    if not isinstance(schema, Mapping):
        return None
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):  # extensions: annotations too
            continue
        check = _quick_keyword(keyword, value, schema)
        if check is None:
            return None
        checks.append(check)
    if len(checks) == 1:
        return checks[0]
    # Plain loops rather than all() over a generator: this runs for every entry of a batch.
    every = tuple(checks)

    def check_all(instance: Any) -> bool:
        for check in every:  # noqa: SIM110 (a loop: all() over a generator is slower)
            if not check(instance):
                return False
        return True

    return check_all


def _quick_keyword(keyword: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
    # Each check answers True when the keyword does not apply to the instance's type (as in
    # JSON Schema), and False for types JSON does not produce, so that jsonschema decides.
    if keyword == "type":
        types = _quick_types(value)
        return None if types is None else (lambda instance: type(instance) in types)
    if keyword == "enum":
        if not all(type(v) is str for v in value):
            return None
        options = frozenset(value)
        return lambda instance: type(instance) is str and instance in options
    if keyword == "format":
        ours = _OUR_FORMATS.get(value)  # called directly: what `conforms` would call
        if ours is not None:
            return ours
        return lambda instance: _FORMATS.conforms(instance, value)
    if keyword == "pattern":
        if not isinstance(value, str):
            return None
        regex = re.compile(value)  # jsonschema searches with `re` as well
        return lambda instance: (
            regex.search(instance) is not None
            if type(instance) is str
            else type(instance) in _JSON_TYPES
        )
    if keyword in ("minLength", "maxLength"):
        return _quick_size(str, value, keyword == "minLength")
    if keyword in ("minItems", "maxItems"):
        return _quick_size(list, value, keyword == "minItems")
    if keyword == "minimum":
        if type(value) not in (int, float):
            return None
        return lambda instance: (
            instance >= value
            if type(instance) in (int, float)
            else type(instance) in (str, dict, list, bool, type(None))
        )
    if keyword == "required":
        names = tuple(value)

        def has_required(obj: dict[str, Any]) -> bool:
            for name in names:  # noqa: SIM110 (as above)
                if name not in obj:
                    return False
            return True

        return _quick_object(has_required)
    if keyword == "properties":
        properties = {name: _quick_check(sub) for name, sub in value.items()}
        if any(check is None for check in properties.values()):
            return None
        pairs = tuple(properties.items())

        def properties_pass(obj: dict[str, Any]) -> bool:
            for name, check in pairs:  # noqa: SIM110 (as above)
                if name in obj and not check(obj[name]):  # type: ignore[misc]
                    return False
            return True

        return _quick_object(properties_pass)
    if keyword == "additionalProperties":
        if value is True:
            return lambda instance: True
        known = frozenset(schema.get("properties", ()))
        if "patternProperties" in schema:
            return None
        if value is False:
            return _quick_object(lambda obj: all(key in known for key in obj))
        extra = _quick_check(value)
        if extra is None:
            return None
        return _quick_object(lambda obj: all(k in known or extra(v) for k, v in obj.items()))
    if keyword == "items":
        item = _quick_check(value)
        if item is None or "prefixItems" in schema:
            return None
        return lambda instance: (
            all(item(element) for element in instance)
            if type(instance) is list
            else type(instance) in _JSON_TYPES
        )
    if keyword in ("anyOf", "oneOf"):
        branches = [(_quick_check(sub), sub) for sub in value]
        if any(check is None or not isinstance(sub, Mapping) for check, sub in branches):
            return None
        if keyword == "anyOf":
            return lambda instance: any(check(instance) for check, _ in branches)  # type: ignore[misc]
        typed = [(check, sub.get("type")) for check, sub in branches]
        return lambda instance: _quick_one_of(instance, typed)  # type: ignore[arg-type]
    return None


def _quick_one_of(instance: Any, branches: list[tuple[Check, object]]) -> bool:
    """Exactly one branch accepts: one passes the quick check and every other one's `type`
    certainly rejects the instance."""
    passing = [check(instance) for check, _ in branches]
    if passing.count(True) != 1:
        return False
    return all(
        ok or _surely_rejects(type_keyword, instance)
        for ok, (_, type_keyword) in zip(passing, branches, strict=True)
    )


def _quick_size(kind: type[str | list[Any]], limit: int, at_least: bool) -> Check:
    def check(instance: Any) -> bool:
        if type(instance) is kind:
            size = len(instance)
            return size >= limit if at_least else size <= limit
        return type(instance) in _JSON_TYPES  # the keyword does not apply

    return check


def _quick_object(check: Callable[[dict[str, Any]], bool]) -> Check:
    return lambda instance: (
        check(instance) if type(instance) is dict else type(instance) in _JSON_TYPES
    )


class SpecValidator:
    """Validates instances against the spec's component schemas and operation parameters."""

    def __init__(self, spec: Mapping[str, Any] | None = None) -> None:
        self.spec: Mapping[str, Any] = load_spec() if spec is None else spec
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}
        self._envelopes: dict[str, dict[str, Any]] = {}
        self._quick: dict[str, Callable[[Any], bool] | None] = {}

    def schema(self, name: str) -> dict[str, Any]:
        """The component schema `name`, as written in the spec."""
        schema: dict[str, Any] = self.spec["components"]["schemas"][name]
        return schema

    def _validator(self, key: str, schema: Mapping[str, Any]) -> jsonschema.Draft202012Validator:
        validator = self._validators.get(key)
        if validator is None:
            validator = jsonschema.Draft202012Validator(
                self._inline(schema), format_checker=_FORMATS
            )
            self._validators[key] = validator
        return validator

    def errors(self, name: str, instance: Any, loc: tuple[str | int, ...] = ()) -> list[ErrorItem]:
        """Every way `instance` fails the component schema `name`, locations prefixed by `loc`."""
        if self._accepts(name, self.schema(name), instance):
            return _unicode_errors(instance, loc)
        validator = self._validator(name, self.schema(name))
        return _convert(validator.iter_errors(instance), loc) + _unicode_errors(instance, loc)

    def _accepts(self, key: str, schema: Mapping[str, Any], instance: Any) -> bool:
        """Whether `instance` is certainly valid, by the quick check of `_quick_check` (False:
        not known, ask jsonschema). Most requests are valid: jsonschema then only has to
        explain the invalid ones."""
        check = self._quick.get(key, _UNSET)
        if check is _UNSET:
            check = self._quick[key] = _quick_check(self._inline(schema))
        return check is not None and check(instance)

    def envelope_errors(
        self, name: str, list_field: str, instance: Any, loc: tuple[str | int, ...] = ()
    ) -> list[ErrorItem]:
        """Errors of a batch request `name` with its entries left unjudged.

        The batch endpoints judge entries one by one, so only the envelope (the list itself:
        present, an array, its size; the other fields) can fail the whole request.
        """
        key = f"{name}:envelope"
        validator = self._validators.get(key)
        if validator is None:
            schema = copy.deepcopy(self.schema(name))
            schema["properties"][list_field]["items"] = {}
            validator = self._validator(key, schema)
            self._envelopes[key] = schema
        if self._accepts(key, self._envelopes[key], instance):
            return []
        return _convert(validator.iter_errors(instance), loc)

    def header_errors(self, operation_id: str, headers: Mapping[str, str]) -> list[ErrorItem]:
        """Errors of the operation's header parameters (e.g. `Idempotency-Key` length)."""
        found: list[ErrorItem] = []
        for param in self.operation(operation_id).get("parameters", []):
            param = self._resolve(param)
            if param.get("in") != "header":
                continue
            name = param["name"]
            value = headers.get(name.lower())
            if value is None:
                if param.get("required"):
                    found.append(_item(("header", name), "Field required", "missing"))
                continue
            validator = self._validator(f"header:{operation_id}:{name}", param["schema"])
            found += _convert(validator.iter_errors(value), ("header", name))
        return found

    def operation(self, operation_id: str) -> dict[str, Any]:
        """The operation object with this `operationId`."""
        for item in self.spec["paths"].values():
            for op in item.values():
                if op.get("operationId") == operation_id:
                    found: dict[str, Any] = op
                    return found
        raise KeyError(operation_id)

    def operation_ids(self) -> list[str]:
        """Every operationId of the spec, in spec order."""
        return [
            op["operationId"]
            for item in self.spec["paths"].values()
            for op in item.values()
            if isinstance(op, Mapping) and "operationId" in op
        ]

    def route(self, operation_id: str) -> tuple[str, str]:
        """The (METHOD, path) of an operation."""
        for path, item in self.spec["paths"].items():
            for method, op in item.items():
                if isinstance(op, Mapping) and op.get("operationId") == operation_id:
                    return method.upper(), path
        raise KeyError(operation_id)

    def default(self, schema_name: str, field: str) -> Any:
        """The spec's `default` of a property (e.g. a document's `mode`)."""
        return self.schema(schema_name)["properties"][field].get("default")

    def _inline(self, node: Any) -> Any:
        """`node` with every local `$ref` replaced by its target (the spec has no cycles).

        Validating against inlined schemas skips a reference lookup per keyword: batches
        validate every entry, so this halves their cost.
        """
        if isinstance(node, list):
            return [self._inline(item) for item in node]
        if not isinstance(node, Mapping):
            return node
        inlined = {k: self._inline(v) for k, v in node.items() if k != "$ref"}
        if "$ref" in node:
            return {**self._inline(self._resolve(node)), **inlined}
        return inlined

    def _resolve(self, node: Mapping[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return dict(node)


def _item(loc: tuple[str | int, ...], msg: str, type_: str) -> ErrorItem:
    return {"loc": list(loc), "msg": msg, "type": type_}


_TYPE_WORDS = {
    "string": ("a valid string", "string_type"),
    "object": ("a valid dictionary", "dict_type"),
    "array": ("a valid list", "list_type"),
    "boolean": ("a valid boolean", "bool_type"),
    "integer": ("a valid integer", "int_type"),
    "number": ("a valid number", "float_type"),
    "null": ("None", "none_type"),
}


def _type_words(types: object) -> tuple[str, str]:
    names = [types] if isinstance(types, str) else list(types)  # type: ignore[call-overload]
    words = [_TYPE_WORDS.get(str(t), (str(t), "type_error")) for t in names if t != "null"]
    if not words:
        return _TYPE_WORDS["null"]
    return " or ".join(w for w, _ in words), words[0][1]


def _convert(
    errors: Iterator[jsonschema.ValidationError], loc: tuple[str | int, ...]
) -> list[ErrorItem]:
    items: list[ErrorItem] = []
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        where = loc + tuple(error.absolute_path)
        kind = error.validator
        expected: Any = error.validator_value
        value: Any = error.instance
        if kind == "required":
            present = value if isinstance(value, dict) else {}
            missing = [f for f in expected if f not in present]
            items += [_item((*where, f), "Field required", "missing") for f in missing]
        elif kind == "type":
            words, type_ = _type_words(expected)
            items.append(_item(where, f"Input should be {words}", type_))
        elif kind == "enum":
            options = [repr(v) for v in expected]
            listed = options[0] if len(options) == 1 else ", ".join(options[:-1])
            if len(options) > 1:
                listed += f" or {options[-1]}"
            items.append(_item(where, f"Input should be {listed}", "enum"))
        elif kind == "format" and expected == "uuid":
            items.append(_item(where, "Input should be a valid UUID", "uuid_parsing"))
        elif kind == "format" and expected == "date-time":
            msg = "Input should be a valid RFC 3339 datetime with a timezone offset"
            items.append(_item(where, msg, "datetime_parsing"))
        elif kind == "maxItems":
            n = len(value)
            msg = f"List should have at most {expected} items after validation, not {n}"
            items.append(_item(where, msg, "too_long"))
        elif kind == "minItems":
            n = len(value)
            msg = f"List should have at least {expected} item after validation, not {n}"
            items.append(_item(where, msg, "too_short"))
        elif kind == "minLength":
            msg = f"String should have at least {expected} character"
            items.append(_item(where, msg, "string_too_short"))
        elif kind == "maxLength":
            msg = f"String should have at most {expected} characters"
            items.append(_item(where, msg, "string_too_long"))
        elif kind in ("oneOf", "anyOf"):
            types = [s.get("type") for s in expected if isinstance(s, dict)]
            words, _ = _type_words([t for t in types if isinstance(t, str)] or ["value"])
            items.append(_item(where, f"Input should be {words}", "union_type"))
        else:
            items.append(_item(where, error.message, "value_error"))
    # A value of the wrong type also fails its enum or format: report the type alone.
    typed = {tuple(i["loc"]) for i in items if i["type"].endswith("_type")}
    return [i for i in items if i["type"].endswith("_type") or tuple(i["loc"]) not in typed]


def _unicode_errors(instance: Any, loc: tuple[str | int, ...]) -> list[ErrorItem]:
    """Strings that cannot be stored as UTF-8 (JSON allows lone surrogates such as \\ud800)."""
    if type(instance) is dict and _flat_ascii(instance):
        return []  # a batch entry as usual: no string of it can hold a surrogate
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(instance, loc)]
    while stack:  # iterative: bodies may nest deeply
        value, where = stack.pop()
        if isinstance(value, str):
            if not _utf8_ok(value):
                return [
                    _item(
                        where, "Input should be a valid string: invalid unicode", "string_unicode"
                    )
                ]
        elif isinstance(value, dict):
            for k, v in value.items():
                if not _utf8_ok(k):
                    return [_item(where, "Keys should be valid unicode", "string_unicode")]
                stack.append((v, (*where, k)))
        elif isinstance(value, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(value))
    return []


_SCALARS = (int, float, bool, type(None))


def _flat_ascii(obj: dict[str, Any]) -> bool:
    """Whether every key and value of `obj` is ASCII text or a number, boolean or null (no
    lone surrogate then: one is never ASCII). False only means "walk it"."""
    for key, value in obj.items():
        if not key.isascii():
            return False
        if type(value) is str:
            if not value.isascii():
                return False
        elif type(value) not in _SCALARS:
            return False
    return True


def _utf8_ok(text: str) -> bool:
    if text.isascii():  # the common case; a lone surrogate is never ASCII
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def describe(errors: list[ErrorItem], *, skip: int = 0) -> str:
    """Errors as one line, `field: message; ...`, naming fields after the first `skip` parts."""
    parts = []
    for error in errors:
        field = ".".join(str(p) for p in error["loc"][skip:]) or "entry"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)
