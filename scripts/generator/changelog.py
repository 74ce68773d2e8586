"""What changed between two versions of the spec, each change marked breaking or compatible.

`changes(old, new)` compares the facts (`facts.read`) of the previous spec (the snapshot
`scripts/generate.py` keeps beside the generated code) with the current one: operations,
object schemas and their properties (types, formats, enums, limits, defaults, required sets)
and enum values. A change is breaking when code or data that worked before may fail now:
anything removed or renamed, a newly required request field, a narrower type, enum or limit
on the request side, a wider one (a type that may now be null, say) on the response side.
Additions and optional fields are compatible.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from generator.facts import LIMITS, response_schemas

BREAKING, COMPATIBLE = "breaking", "compatible"

# Limits that reject more as they grow (the rest reject more as they shrink).
_LOWER_BOUNDS = frozenset(("minLength", "minItems", "minimum"))


class Change(NamedTuple):
    kind: str  # BREAKING or COMPATIBLE
    where: str  # e.g. "BatchMessage.annotations", "operation record_message"
    what: str

    def line(self) -> str:
        return f"{self.kind:<10}  {self.where}: {self.what}"


def _sides(facts: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The object schemas requests are made of, and those responses are made of."""
    requests: set[str] = set()

    def visit(name: str | None) -> None:
        if name is None or name in requests or name not in facts["schemas"]:
            return
        requests.add(name)
        for prop in facts["schemas"][name]["properties"]:
            visit(prop["schema"])
            visit(prop["items"])

    for op in facts["operations"].values():
        visit(op["request"])
    return requests, set(response_schemas(facts))


def _describe(prop: dict[str, Any]) -> str:
    kind = "required" if prop["required"] else "optional"
    types = "|".join(prop["types"]) or "any"
    if prop["enum"]:
        types = prop["enum"] + ("|string" if prop["enum_open"] else "")
    elif prop["schema"]:
        types = prop["schema"]
    return f"{kind}, {types}"


def _same_but_name(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {**a, "name": "", "description": ""} == {**b, "name": "", "description": ""}


def _limit_change(limit: str, before: Any, after: Any) -> str:
    if before is None:
        return BREAKING  # a new limit rejects what passed before
    if after is None:
        return COMPATIBLE
    if limit == "pattern":
        return BREAKING
    tighter = after > before if limit in _LOWER_BOUNDS else after < before
    return BREAKING if tighter else COMPATIBLE


def _property_changes(
    where: str, old: dict[str, Any], new: dict[str, Any], request: bool, response: bool
) -> list[Change]:
    found: list[Change] = []

    def add(breaking_if_request: bool, breaking_if_response: bool, what: str) -> None:
        breaking = (request and breaking_if_request) or (response and breaking_if_response)
        found.append(Change(BREAKING if breaking else COMPATIBLE, where, what))

    if old["required"] != new["required"]:
        if new["required"]:
            add(True, False, "now required")
        else:
            add(False, True, "no longer required")
    lost = [t for t in old["types"] if t not in new["types"]]
    gained = [t for t in new["types"] if t not in old["types"]]
    if lost:
        add(True, False, f"type no longer accepts {', '.join(lost)}")
    if gained:
        add(False, True, f"type now also accepts {', '.join(gained)}")
    if old["format"] != new["format"]:
        add(True, True, f"format {old['format']} -> {new['format']}")
    if (old["enum"], old["enum_open"]) != (new["enum"], new["enum_open"]):
        narrower = (old["enum_open"] and not new["enum_open"]) or (new["enum"] and not old["enum"])
        add(bool(narrower), not narrower, f"enum {old['enum']} -> {new['enum']}")
    if old["schema"] != new["schema"] or old["items"] != new["items"]:
        add(True, True, f"shape {old['schema'] or old['items']} -> {new['schema'] or new['items']}")
    if (old["has_default"], old["default"]) != (new["has_default"], new["default"]):
        before = repr(old["default"]) if old["has_default"] else "none"
        after = repr(new["default"]) if new["has_default"] else "none"
        add(True, False, f"default {before} -> {after}")
    for limit in LIMITS:
        if old[limit] != new[limit]:
            tighter = _limit_change(limit, old[limit], new[limit]) == BREAKING
            add(tighter, False, f"{limit} {old[limit]} -> {new[limit]}")
    return found


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from `old` to `new` (both `facts.read` results), in a stable order."""
    found: list[Change] = []
    old_ops, new_ops = old["operations"], new["operations"]
    for op_id in old_ops:
        if op_id not in new_ops:
            op = old_ops[op_id]
            found.append(
                Change(BREAKING, f"operation {op_id}", f"removed ({op['method']} {op['path']})")
            )
    for op_id, op in new_ops.items():
        where = f"operation {op_id}"
        if op_id not in old_ops:
            found.append(Change(COMPATIBLE, where, f"added ({op['method']} {op['path']})"))
            continue
        before = old_ops[op_id]
        if (before["method"], before["path"]) != (op["method"], op["path"]):
            found.append(
                Change(
                    BREAKING,
                    where,
                    f"moved {before['method']} {before['path']} -> {op['method']} {op['path']}",
                )
            )
        for side in ("request", "response"):
            if before[side] != op[side]:
                found.append(Change(BREAKING, where, f"{side} body {before[side]} -> {op[side]}"))

    old_req, old_resp = _sides(old)
    new_req, new_resp = _sides(new)
    for name in old["schemas"]:
        if name not in new["schemas"]:
            found.append(Change(BREAKING, f"schema {name}", "removed"))
    for name, schema in new["schemas"].items():
        request, response = name in new_req | old_req, name in new_resp | old_resp
        if name not in old["schemas"]:
            found.append(Change(COMPATIBLE, f"schema {name}", "added"))
            continue
        before = old["schemas"][name]
        if before["additional"] and not schema["additional"]:
            found.append(
                Change(BREAKING if request else COMPATIBLE, name, "no longer allows other keys")
            )
        elif schema["additional"] and not before["additional"]:
            found.append(Change(COMPATIBLE, name, "now allows other keys"))
        old_props = {p["name"]: p for p in before["properties"]}
        new_props = {p["name"]: p for p in schema["properties"]}
        removed = [p for n, p in old_props.items() if n not in new_props]
        added = [p for n, p in new_props.items() if n not in old_props]
        for prop in removed:
            twin = next((a for a in added if _same_but_name(prop, a)), None)
            if twin is not None:
                added.remove(twin)
                found.append(
                    Change(BREAKING, f"{name}.{prop['name']}", f"renamed to {twin['name']}")
                )
            else:
                found.append(Change(BREAKING, f"{name}.{prop['name']}", "removed"))
        for prop in added:
            breaking = request and prop["required"]
            found.append(
                Change(
                    BREAKING if breaking else COMPATIBLE,
                    f"{name}.{prop['name']}",
                    f"added ({_describe(prop)})",
                )
            )
        for prop_name, prop in new_props.items():
            if prop_name in old_props:
                found += _property_changes(
                    f"{name}.{prop_name}", old_props[prop_name], prop, request, response
                )
        order_before = [n for n in old_props if n in new_props]
        order_after = [n for n in new_props if n in old_props]
        if order_before != order_after:
            found.append(Change(COMPATIBLE, name, "properties reordered (wire order follows)"))

    for name, values in old["enums"].items():
        if name not in new["enums"]:
            found.append(Change(BREAKING, f"enum {name}", "removed"))
            continue
        for value in values:
            if value not in new["enums"][name]:
                found.append(Change(BREAKING, f"enum {name}", f"value {value!r} removed"))
    for name, values in new["enums"].items():
        if name not in old["enums"]:
            found.append(Change(COMPATIBLE, f"enum {name}", f"added ({', '.join(values)})"))
            continue
        for value in values:
            if value not in old["enums"][name]:
                found.append(Change(COMPATIBLE, f"enum {name}", f"value {value!r} added"))
    return found
