"""XLSForm surveys (`.xlsx`) as voice agent flows.

Each question is a conversation node that asks it, followed by an extract node
`<name>__answer` that stores the answer in the variable `<name>`. Skip logic
(`relevant`, including a group's) becomes equation edges from that extract node, so
routing through the form is deterministic; an expression this importer cannot
translate becomes an llm_prompt edge quoting it. `note` rows are spoken and passed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models.graph import AgentGraph, graph_from_data

_SKIPPED = {"calculate", "hidden", "start", "end", "deviceid", "today", "username", "audit"}
_COMPARISON = re.compile(r"^\$\{(\w+)\}\s*(!=|>=|<=|=|>|<)\s*(?:'([^']*)'|\"([^\"]*)\"|(-?\d+(?:\.\d+)?))$")
_SELECTED = re.compile(r"^(not\s*\(\s*)?selected\s*\(\s*\$\{(\w+)\}\s*,\s*['\"]([^'\"]+)['\"]\s*\)(\s*\))?$")
_OPS = {"=": "==", "!=": "!=", ">": ">", "<": "<", ">=": ">=", "<=": "<="}
_ANSWER_TYPES = {
    "integer": "Expect a whole number.",
    "decimal": "Expect a number.",
    "date": "Expect a date.",
    "time": "Expect a time.",
    "datetime": "Expect a date and time.",
}


def detect(payload: bytes) -> bool:
    return payload[:2] == b"PK"


def _rows(sheet: Any) -> list[dict[str, Any]]:
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return []
    headers = [str(h).strip().lower() if h is not None else "" for h in rows[0]]
    return [
        {headers[i]: cell for i, cell in enumerate(row) if i < len(headers) and headers[i]} | {"__row__": number}
        for number, row in enumerate(rows[1:], start=2)
        if any(cell is not None and str(cell).strip() for cell in row)
    ]


def _cell(row: dict[str, Any], *names: str) -> str:
    for name in names:
        for key, value in row.items():
            if key == name or key.startswith(f"{name}::"):
                if value is not None:
                    return str(value).strip()
    return ""


def translate_relevant(expression: str) -> dict[str, Any]:
    """An IR condition for an XLSForm `relevant` expression."""
    fallback = {"type": "llm_prompt", "value": f"This form condition holds: {expression}"}
    for joiner, logical in ((" and ", "and"), (" or ", "or")):
        parts = [p for p in re.split(joiner, expression) if p.strip()]
        if len(parts) > 1:
            equations = [_equation(p) for p in parts]
            if not all(equations):
                return fallback
            return {"type": "equation", "value": expression, "equations": equations, "logical_operator": logical}
    single = _equation(expression)
    return {"type": "equation", "value": expression, "equations": [single]} if single else fallback


def _equation(part: str) -> dict[str, str] | None:
    part = part.strip()
    while part.startswith("(") and part.endswith(")") and not part.startswith("(not"):
        part = part[1:-1].strip()
    match = _COMPARISON.match(part)
    if match:
        name, op, single, double, number = match.groups()
        right = next(v for v in (single, double, number) if v is not None)
        return {"left": f"{{{{{name}}}}}", "operator": _OPS[op], "right": right}
    match = _SELECTED.match(part)
    if match:
        negated, name, value, _ = match.groups()
        return {"left": f"{{{{{name}}}}}", "operator": "not_contains" if negated else "contains", "right": value}
    return None


def load(payload: bytes, source: str | Path | None = None) -> AgentGraph:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise InputError(f"cannot read the workbook: {exc}", source=source, fix="save it as .xlsx") from None
    if "survey" not in workbook.sheetnames:
        raise InputError("the workbook has no 'survey' sheet", source=source, fix="an XLSForm needs survey, choices, settings sheets")
    survey = _rows(workbook["survey"])
    choices: dict[str, list[tuple[str, str]]] = {}
    if "choices" in workbook.sheetnames:
        for row in _rows(workbook["choices"]):
            list_name = _cell(row, "list_name", "list name")
            if list_name:
                name = _cell(row, "name")
                choices.setdefault(list_name, []).append((name, _cell(row, "label") or name))
    settings = _rows(workbook["settings"])[0] if "settings" in workbook.sheetnames and _rows(workbook["settings"]) else {}
    questions = _questions(survey, choices, source)
    if not questions:
        raise InputError("the survey has no questions", source=source, field="survey")
    nodes: dict[str, Any] = {}
    for index, question in enumerate(questions):
        name = question["name"]
        answer_id = f"{name}__answer"
        routes = _routes(questions[index + 1 :])
        if question["type"] == "note":
            nodes[name] = {"id": name, "state_prompt": question["prompt"], "transitions": routes, "metadata": question["meta"]}
            continue
        nodes[name] = {
            "id": name,
            "state_prompt": question["prompt"],
            "transitions": [{"target_node_id": answer_id, "condition": {"type": "llm_prompt", "value": "The caller answered the question"}}],
            "metadata": question["meta"],
        }
        nodes[answer_id] = {
            "id": answer_id,
            "node_type": "extract",
            "variables_to_extract": [
                {
                    "name": name,
                    "description": f"The caller's answer to: {question['label']}",
                    "type": question["variable_type"],
                    "choices": question["choices"],
                }
            ],
            "transitions": routes,
        }
    nodes["survey_complete"] = {
        "id": "survey_complete",
        "node_type": "end",
        "state_prompt": "Thank the caller for completing the survey and say goodbye.",
    }
    title = _cell(settings, "form_title") or (Path(source).stem if source else "form")
    graph = {
        "nodes": nodes,
        "entry_node_id": questions[0]["name"],
        "source_type": "xlsform",
        "source_metadata": {
            "general_prompt": f"You are conducting the '{title}' survey by phone. Ask one question at a time.",
            "form_title": title,
            "form_id": _cell(settings, "form_id"),
        },
    }
    return graph_from_data(graph, source)


def _questions(survey: list[dict[str, Any]], choices: dict[str, list[tuple[str, str]]], source: Any) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = []
    groups: list[str] = []
    for row in survey:
        kind = _cell(row, "type").lower()
        name = _cell(row, "name")
        relevant = _cell(row, "relevant")
        if kind in {"begin_group", "begin group", "begin_repeat", "begin repeat"}:
            groups.append(relevant)
            continue
        if kind in {"end_group", "end group", "end_repeat", "end repeat"}:
            if groups:
                groups.pop()
            continue
        if not name or kind in _SKIPPED:
            continue
        if not re.fullmatch(r"[A-Za-z_][\w.-]*", name):
            raise InputError(
                f"question name '{name}' is not a valid XLSForm name",
                source=source,
                line=row["__row__"],
                field="survey.name",
                fix="use letters, digits and underscores",
            )
        label = _cell(row, "label") or name
        base, _, list_name = kind.partition(" ")
        options = choices.get(list_name.strip(), []) if base in {"select_one", "select_multiple"} else []
        if kind == "note":
            prompt = f'Tell the caller: "{label}"'
        else:
            parts = [f'Ask the caller: "{label}"']
            hint = _cell(row, "hint")
            if hint:
                parts.append(f"If they need help, explain: {hint}")
            if options:
                labels = ", ".join(label for _, label in options)
                parts.append(f"The options are: {labels}." + (" They may pick several." if base == "select_multiple" else ""))
            elif kind in _ANSWER_TYPES:
                parts.append(_ANSWER_TYPES[kind])
            if _cell(row, "required").lower() in {"yes", "true", "1"}:
                parts.append("An answer is required; ask again if they do not give one.")
            prompt = "\n".join(parts)
        conditions = [c for c in [*groups, relevant] if c]
        questions.append(
            {
                "name": name,
                "type": kind,
                "label": label,
                "prompt": prompt,
                "relevant": " and ".join(conditions),
                "choices": [option for option, _ in options],
                "variable_type": "number" if kind in {"integer", "decimal"} else "string",
                "meta": {"xlsform_type": kind, "row": row["__row__"]},
            }
        )
    return questions


def _routes(following: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Edges to the next question that applies, in form order; the first unconditional one ends the list."""
    routes = []
    for question in following:
        if question["relevant"]:
            routes.append({"target_node_id": question["name"], "condition": translate_relevant(question["relevant"])})
        else:
            routes.append({"target_node_id": question["name"], "condition": {"type": "always", "value": "Next question"}})
            return routes
    routes.append({"target_node_id": "survey_complete", "condition": {"type": "always", "value": "Survey complete"}})
    return routes
