"""The spec's facts, read once at generation time, for the hand-written layer.

`read(spec)` turns the OpenAPI document into plain data: per operation its method, path,
request and response schema; per object schema its properties in spec order with their JSON
types, format, enum, limits and default, which are required, and whether other keys are
allowed; every string enum. `render_*` write that data as the Python modules of the
`synap_spec` package (see `scripts/generate.py`), so the SDK, the local server's helpers and
the CLI read the spec's facts without parsing YAML at run time.
"""

from __future__ import annotations

import keyword
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# What a property records, besides its name, in this order (see Property in the rendered
# module). Only keywords the SDK acts on are kept; descriptions go to docstrings.
LIMITS = ("minLength", "maxLength", "pattern", "minItems", "maxItems", "minimum", "maximum")


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return ref.rsplit("/", 1)[-1]
    return None


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _is_enum(schema: dict[str, Any]) -> bool:
    return "enum" in schema and all(isinstance(v, str) for v in schema["enum"])


def _is_object_schema(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" and "properties" in schema


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _property(
    spec: dict[str, Any], name: str, node: dict[str, Any], required: bool
) -> dict[str, Any]:
    """One property's facts. `node` is the property schema as written (maybe a `$ref`, maybe
    with sibling keywords such as `default`)."""
    schemas = spec["components"]["schemas"]
    fact: dict[str, Any] = {
        "name": name,
        "types": [],
        "required": required,
        "format": None,
        "enum": None,
        "enum_open": False,
        "schema": None,
        "items": None,
        "has_default": False,
        "default": None,
        "description": "",
    }
    fact.update({limit: None for limit in LIMITS})

    def absorb(sub: dict[str, Any]) -> None:
        ref = _ref_name(sub)
        target = _resolve(spec, sub)
        if ref is not None and _is_enum(schemas[ref]):
            fact["enum"] = ref
        elif ref is not None and _is_object_schema(schemas[ref]):
            fact["schema"] = ref
        for t in _types(target.get("type")):
            if t not in fact["types"]:
                fact["types"].append(t)
        if not fact["format"] and target.get("format"):
            fact["format"] = target["format"]
        for limit in LIMITS:
            if limit in target and fact[limit] is None:
                fact[limit] = target[limit]
        if "items" in target:
            item_ref = _ref_name(target["items"])
            fact["items"] = item_ref
        if not fact["description"] and target.get("description"):
            fact["description"] = " ".join(str(target["description"]).split())
        if ref is None and _is_enum(target) and fact["enum"] is None:
            raise SystemExit(
                f"property {name!r}: an inline enum; give it a name under components/schemas "
                "so the SDK and the CLI can name its type"
            )

    # Sibling keywords of a `$ref` (3.1) win over the target's: read them first.
    local = {k: v for k, v in node.items() if k != "$ref"}
    if local.get("description"):
        fact["description"] = " ".join(str(local["description"]).split())
    branches = local.pop("oneOf", None) or local.pop("anyOf", None)
    absorb(local)
    if "$ref" in node:
        absorb({"$ref": node["$ref"]})
    if branches:
        enum_branch = any(_ref_name(b) and _is_enum(schemas[_ref_name(b)]) for b in branches)
        plain_string = any("$ref" not in b and "string" in _types(b.get("type")) for b in branches)
        for branch in branches:
            absorb(branch)
        fact["enum_open"] = bool(enum_branch and plain_string)
    if "default" in node:
        fact["has_default"] = True
        fact["default"] = node["default"]
    return fact


def _object(spec: dict[str, Any], name: str, schema: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    return {
        "name": name,
        "properties": [
            _property(spec, prop, sub, prop in required)
            for prop, sub in schema.get("properties", {}).items()
        ],
        # Only an explicit `additionalProperties: true` lets other keys through the SDK: a
        # schema silent about it gets a misspelt key refused rather than silently sent.
        "additional": schema.get("additionalProperties") is True,
        "description": " ".join(str(schema.get("description", "")).split()),
        # `x-synap-typed-present`: keys a response schema may omit (a rejected batch entry has
        # only `error`) that its TypedDict still declares present, so that reading a stored
        # entry's `message_id` type-checks under pyright as well as mypy.
        "typed_present": [str(key) for key in schema.get("x-synap-typed-present", ())],
    }


def _body_schema(spec: dict[str, Any], holder: Any) -> str | None:
    media = _resolve(spec, holder or {}).get("content", {}).get("application/json")
    if not media:
        return None
    return _ref_name(media.get("schema", {}))


def read(spec: dict[str, Any]) -> dict[str, Any]:
    """The facts of an OpenAPI document, as plain JSON-ready data."""
    schemas = spec.get("components", {}).get("schemas", {})
    operations = {}
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if not op:
                continue
            operation_id = op["operationId"]
            ok = next((op["responses"][c] for c in ("200", "201") if c in op["responses"]), None)
            operations[operation_id] = {
                "operation_id": operation_id,
                "method": method.upper(),
                "path": path,
                "tag": (op.get("tags") or [""])[0],
                "request": _body_schema(spec, op.get("requestBody")),
                "response": _body_schema(spec, ok),
                "summary": " ".join(str(op.get("summary", "")).split()),
            }
    return {
        "title": spec.get("info", {}).get("title", ""),
        "version": str(spec.get("info", {}).get("version", "")),
        "operations": operations,
        "schemas": {
            name: _object(spec, name, schema)
            for name, schema in schemas.items()
            if _is_object_schema(schema)
        },
        "enums": {
            name: list(schema["enum"]) for name, schema in schemas.items() if _is_enum(schema)
        },
    }


# -- rendering ------------------------------------------------------------------------------

_HEADER = """\
# Generated by scripts/generate.py from openapi/synap.yaml: do not edit.
"""


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return "(" + "".join(f"{_literal(v)}, " for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def render_facts(facts: dict[str, Any]) -> str:
    """The source of `synap_spec/__init__.py`."""
    out = [
        _HEADER,
        '"""The facts of the Synap OpenAPI document, for the hand-written SDK and CLI.\n\n'
        f"Spec: {facts['title']} {facts['version']}. `OPERATIONS` maps each operationId to its\n"
        "method, path, request and response schema; `SCHEMAS` each object schema to its\n"
        "properties in spec order (the wire order) with their types, format, enum, limits and\n"
        "default; `ENUMS` each string enum to its values. Read these instead of restating the\n"
        "spec: after `scripts/generate.py` a spec change reaches every reader. (The local\n"
        "server validates against the spec itself.)\n"
        '"""\n',
        "from __future__ import annotations",
        "",
        "from typing import Any, Final, NamedTuple",
        "",
        "__all__ = [",
        '    "ENUMS", "OPERATIONS", "SCHEMAS", "SPEC_VERSION", "Operation", "Property", "Schema",',
        "]",
        "",
        f"SPEC_VERSION: Final = {facts['version']!r}",
        '"""`info.version` of the spec these facts were generated from."""',
        "",
        "",
        "class Operation(NamedTuple):",
        '    """One operation: `request` and `response` (the 200 body) name `SCHEMAS` entries."""',
        "",
        "    operation_id: str",
        "    method: str",
        "    path: str",
        "    tag: str",
        "    request: str | None",
        "    response: str | None",
        "    summary: str",
        "",
        "",
        "class Property(NamedTuple):",
        '    """One property of an object schema.',
        "",
        "    `types` are JSON types (`string`, `integer`, `number`, `boolean`, `object`, `array`,",
        "    `null`); `enum` names an entry of `ENUMS` (`enum_open`: other strings allowed too);",
        "    `schema` names the object schema of an object property, `items` that of array items;",
        "    the limits are the JSON Schema keywords of the same name; `default` counts only when",
        "    `has_default`.",
        '    """',
        "",
        "    name: str",
        "    types: tuple[str, ...]",
        "    required: bool = False",
        "    format: str | None = None",
        "    enum: str | None = None",
        "    enum_open: bool = False",
        "    schema: str | None = None",
        "    items: str | None = None",
        "    has_default: bool = False",
        "    default: Any = None",
        '    description: str = ""',
        "    min_length: int | None = None",
        "    max_length: int | None = None",
        "    pattern: str | None = None",
        "    min_items: int | None = None",
        "    max_items: int | None = None",
        "    minimum: int | float | None = None",
        "    maximum: int | float | None = None",
        "",
        "",
        "class Schema(NamedTuple):",
        '    """An object schema: `properties` in spec order; `additional`: whether the spec lets',
        '    other keys through (`additionalProperties: true`)."""',
        "",
        "    name: str",
        "    properties: tuple[Property, ...]",
        "    additional: bool",
        "    description: str",
        "",
        "    def prop(self, name: str) -> Property | None:",
        '        """The property called `name`, if the schema has one."""',
        "        for prop in self.properties:",
        "            if prop.name == name:",
        "                return prop",
        "        return None",
        "",
        "    @property",
        "    def names(self) -> tuple[str, ...]:",
        '        """The property names, in spec (wire) order."""',
        "        return tuple(prop.name for prop in self.properties)",
        "",
        "",
        "OPERATIONS: Final[dict[str, Operation]] = {",
    ]
    for op_id, op in facts["operations"].items():
        fields = ", ".join(f"{k}={_literal(v)}" for k, v in op.items())
        out.append(f"    {op_id!r}: Operation({fields}),")
    out += ["}", '"""Every operation of the spec, by operationId, in spec order."""', "", ""]
    out.append("SCHEMAS: Final[dict[str, Schema]] = {")
    for name, schema in facts["schemas"].items():
        props = []
        for prop in schema["properties"]:
            args = [f"name={prop['name']!r}", f"types={_literal(prop['types'])}"]
            for key in ("required", "format", "enum", "enum_open", "schema", "items"):
                if prop[key]:
                    args.append(f"{key}={prop[key]!r}")
            if prop["has_default"]:
                args.append(f"has_default=True, default={_literal(prop['default'])}")
            args += [f"{_snake(k)}={prop[k]!r}" for k in LIMITS if prop[k] is not None]
            args.append(f"description={prop['description']!r}")
            props.append("Property(" + ", ".join(args) + "),")
        out.append(
            f"    {name!r}: Schema(name={name!r}, properties=({' '.join(props)}), "
            f"additional={schema['additional']!r}, description={schema['description']!r}),"
        )
    out += ["}", '"""Every object schema of the spec, by name."""', "", ""]
    out.append("ENUMS: Final[dict[str, tuple[str, ...]]] = {")
    for name, values in facts["enums"].items():
        out.append(f"    {name!r}: {_literal(values)},")
    out += ["}", '"""Every string enum of the spec, by schema name: its values in spec order."""']
    return "\n".join(out) + "\n"


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


_PY_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "object": "dict[str, Any]",
    "null": "None",
}


def _annotation(prop: dict[str, Any], typed: set[str]) -> str:
    parts = []
    for t in prop["types"] or ["object"]:
        if t == "array":
            item = prop["items"]
            parts.append(f"list[{item}]" if item in typed else "list[Any]")
        elif t == "object" and prop["schema"] in typed:
            parts.append(prop["schema"])
        else:
            parts.append(_PY_TYPES.get(t, "Any"))
    return " | ".join(dict.fromkeys(parts))


def response_schemas(facts: dict[str, Any]) -> list[str]:
    """The object schemas answers are made of: each operation's 200 body and what it holds,
    dependencies first."""
    order: list[str] = []

    def visit(name: str | None) -> None:
        if name is None or name in order or name not in facts["schemas"]:
            return
        for prop in facts["schemas"][name]["properties"]:
            visit(prop["schema"])
            visit(prop["items"])
        order.append(name)

    for op in facts["operations"].values():
        visit(op["response"])
    return order


def render_responses(facts: dict[str, Any]) -> str:
    """The source of `synap_spec/responses.py`: a TypedDict per response schema."""
    names = response_schemas(facts)
    typed = set(names)
    out = [
        _HEADER,
        '"""The spec\'s response bodies as TypedDicts: what the SDK returns as dicts.\n\n'
        "Keys a response schema does not require are `NotRequired`, except those its\n"
        "`x-synap-typed-present` lists. Timestamps are the server's\n"
        "own strings. Keys a newer server adds are kept in the dict (the schemas allow them).\n"
        '"""\n',
        "from __future__ import annotations",
        "",
        "from typing import Any, NotRequired, TypedDict",
        "",
        "__all__ = [" + ", ".join(repr(n) for n in sorted(names)) + "]",
    ]
    for name in names:
        schema = facts["schemas"][name]
        out += ["", "", f"class {name}(TypedDict):"]
        out.append(f'    """{_docstring(schema["description"] or name)}"""')
        out.append("")
        for prop in schema["properties"]:
            key = prop["name"]
            if not key.isidentifier() or keyword.iskeyword(key):
                raise SystemExit(
                    f"{name}.{key}: not a Python identifier; cannot be a TypedDict key"
                )
            annotation = _annotation(prop, typed)
            if not prop["required"] and key not in schema.get("typed_present", ()):
                annotation = f"NotRequired[{annotation}]"
            out.append(f"    {key}: {annotation}")
            if prop["description"]:
                out.append(f'    """{_docstring(prop["description"])}"""')
    return "\n".join(out) + "\n"


def _docstring(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').rstrip('"')
