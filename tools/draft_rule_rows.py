"""Draft rows of validation/data/sdtm_rules.toml from the CDISC CORE rule.yml files (an authoring aid).

Not part of the product (the product never reads ../shared); needs ruamel.yaml (installed with
great-expectations). For each CORE rule whose check uses
only operators our expression language has, it prints a TOML row: scope, level, the check
translated into our expression language (``--`` kept for the domain prefix), lookups for Match
Datasets keyed by USUBJID (DM only: a lookup reads one record per subject), and a message that says
literally what the check finds and a fix, both in our words, for a person to review before the row is
committed. Rules it cannot translate are listed on stderr with why.

    python tools/draft_rule_rows.py [CORE-000022 ...] > /tmp/draft.toml
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from ruamel.yaml import YAML

from subgen.core.standards import SDTMIG, ig_variables

ROOT = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cdisc-open-rules" / "rules"
_NAMES = {v.name for vs in ig_variables().values() for v in vs}
_GENERIC = {v.name[2:] for (std, ds), vs in ig_variables().items() if std == SDTMIG and len(ds) == 2
            for v in vs if v.name.startswith(ds)}


class Untranslatable(Exception):
    """The check uses something our language does not have."""


def lit(value: object) -> str:
    """A literal in our language."""
    if isinstance(value, bool):
        raise Untranslatable("boolean value")
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text.replace("'", "''") + "'"


def is_column(value: object, cond: dict, lookups: set[str]) -> bool:
    """Whether a CORE value names a column (CORE's rule: not value_is_literal and a variable name)."""
    if cond.get("value_is_literal") or not isinstance(value, str):
        return False
    if value.startswith("--") and value[2:] in _GENERIC:
        return True
    return value in _NAMES or any(value.startswith(f"{d}.") for d in lookups)


def ref(name: str, lookups: dict[str, set[str]]) -> str:
    """A column reference, ``DM.RFSTDTC`` when the name belongs to a lookup dataset only."""
    if name.startswith("$"):
        raise Untranslatable(f"operation variable {name}")
    for ds, names in lookups.items():
        if name in names and not name.startswith("--") and name not in ("USUBJID", "STUDYID", "DOMAIN"):
            return f"{ds}.{name}"
    return name


def cond(c: dict, lookups: dict[str, set[str]]) -> str:
    """One CORE condition in our language."""
    op, name, value = c["operator"], ref(c["name"], lookups), c.get("value")
    if any(k in c for k in ("prefix", "suffix", "within", "date_component")):
        raise Untranslatable(f"{op} with {[k for k in c if k in ('prefix', 'suffix', 'within', 'date_component')]}")
    col = is_column(value, c, set(lookups))
    right = ref(value, lookups) if col else (lit(value) if value is not None and not isinstance(value, list)
                                              else None)
    if op in ("equal_to_case_insensitive", "not_equal_to_case_insensitive"):
        return f"{'not ' if op.startswith('not') else ''}equal_ignoring_case({name}, {right})"
    simple = {"equal_to": "=", "not_equal_to": "!=", "greater_than": ">", "less_than": "<",
              "greater_than_or_equal_to": ">=", "less_than_or_equal_to": "<="}
    dates = {"date_greater_than": "date_gt", "date_less_than": "date_lt", "date_greater_than_or_equal_to": "date_ge",
             "date_less_than_or_equal_to": "date_le", "date_equal_to": "date_eq", "date_not_equal_to": "date_ne"}
    if isinstance(value, str) and value.startswith("$"):
        raise Untranslatable(f"operation variable {value}")
    if op == "non_empty":
        return f"{name} is not blank"
    if op == "empty":
        return f"{name} is blank"
    if op == "exists":
        return f"exists({name})"
    if op == "not_exists":
        return f"not exists({name})"
    if op in simple:
        return f"{name} {simple[op]} {right}"
    if op in dates:
        return f"{dates[op]}({name}, {right})"
    if op in ("is_contained_by", "is_not_contained_by"):
        if not isinstance(value, list):
            raise Untranslatable(f"{op} of {value!r}")
        items = ", ".join(lit(v) for v in value)
        return f"{name} {'not in' if op == 'is_not_contained_by' else 'in'} ({items})"
    if op in ("is_complete_date", "is_incomplete_date", "invalid_date"):
        return f"{'is_invalid_date' if op == 'invalid_date' else op}({name})"
    if op == "longer_than":
        return f"longer_than({name}, {value})"
    if op in ("matches_regex", "not_matches_regex"):
        return f"{'not ' if op.startswith('not') else ''}matches({name}, {lit(value)})"
    if op in ("contains", "starts_with", "ends_with"):
        return f"{op}({name}, {right})"
    if op in ("is_not_unique_set", "is_unique_set"):
        group = value if isinstance(value, list) else [value] if value else []
        return f"{op}({', '.join([name, *[ref(g, lookups) for g in group]])})"
    if op == "is_not_unique_relationship":
        return f"is_not_unique_relationship({name}, {right})"
    raise Untranslatable(f"operator {op}")


def tree(node: object, lookups: dict[str, set[str]], top: bool = False) -> str:
    """A CORE all/any/not tree in our language."""
    if isinstance(node, dict) and "operator" in node:
        return cond(node, lookups)
    assert isinstance(node, dict)
    (kind, items), = node.items()
    if kind == "not":
        return f"not ({tree(items, lookups)})"
    parts = [tree(i, lookups) for i in items]
    joiner = " and " if kind == "all" else " or "
    if len(parts) == 1:
        return parts[0]
    text = joiner.join(f"({p})" if (" or " in p and kind == "all") else p for p in parts)
    return text if top else f"({text})"


def words(node: object) -> str:
    """The CORE tree in plain English of our own (the draft message)."""
    if isinstance(node, dict) and "operator" in node:
        return _words(node)
    assert isinstance(node, dict)
    (kind, items), = node.items()
    if kind == "not":
        return f"it is not so that {words(items)}"
    parts = [words(i) for i in items]
    if len(parts) == 1:
        return parts[0]
    if kind == "all":
        return "; ".join(parts)
    return "either " + " or ".join(parts) if len(parts) == 2 else "one of: " + ", ".join(parts)


def _words(c: dict) -> str:
    op, name, value = c["operator"], c["name"], c.get("value")
    shown = value if isinstance(value, str) and (c.get("value_is_literal") is not True and value in _NAMES
                                                 or value.startswith("--")) else repr(value)
    phrases = {"non_empty": f"{name} is populated", "empty": f"{name} is null",
               "exists": f"{name} is in the dataset", "not_exists": f"{name} is not in the dataset",
               "equal_to": f"{name} is {shown}", "not_equal_to": f"{name} is not {shown}",
               "equal_to_case_insensitive": f"{name} is {shown} (ignoring case)",
               "not_equal_to_case_insensitive": f"{name} is not {shown} (ignoring case)",
               "greater_than": f"{name} > {shown}", "less_than": f"{name} < {shown}",
               "greater_than_or_equal_to": f"{name} >= {shown}", "less_than_or_equal_to": f"{name} <= {shown}",
               "date_greater_than": f"{name} is after {shown}", "date_less_than": f"{name} is before {shown}",
               "date_greater_than_or_equal_to": f"{name} is on or after {shown}",
               "date_less_than_or_equal_to": f"{name} is on or before {shown}",
               "date_equal_to": f"{name} is the same date as {shown}",
               "date_not_equal_to": f"{name} is not the same date as {shown}",
               "is_contained_by": f"{name} is one of {value}", "is_not_contained_by": f"{name} is not one of {value}",
               "is_complete_date": f"{name} is a complete date", "is_incomplete_date": f"{name} is a partial date",
               "invalid_date": f"{name} is not a valid ISO 8601 date",
               "longer_than": f"{name} is longer than {value} characters",
               "matches_regex": f"{name} matches the pattern {value}",
               "not_matches_regex": f"{name} does not match the pattern {value}",
               "contains": f"{name} contains {shown}", "starts_with": f"{name} starts with {shown}",
               "ends_with": f"{name} ends with {shown}",
               "is_not_unique_set": f"{name} is not unique for {value}",
               "is_unique_set": f"{name} is unique for {value}",
               "is_not_unique_relationship": f"{name} and {value} are not one to one"}
    return phrases.get(op, f"{name} {op} {value}")


def _list(scope: dict | None, key: str) -> list[str]:
    return [str(x) for x in ((scope or {}).get(key) or [])]


def draft(core: str) -> str:
    """The TOML row for one rule, or raise Untranslatable."""
    rule = YAML(typ="safe").load((ROOT / core / "rule.yml").read_text())
    if rule.get("Rule Type") != "Record Data":
        raise Untranslatable(f"rule type {rule.get('Rule Type')}")
    if rule.get("Operations"):
        raise Untranslatable("operations " + ", ".join(o.get("operator", "?") for o in rule["Operations"]))
    lookups: dict[str, set[str]] = {}
    for md in rule.get("Match Datasets") or []:
        if md.get("Keys") != ["USUBJID"] or md.get("Is Relationship") or md["Name"] != "DM":
            raise Untranslatable(f"match dataset {md} (a lookup reads one record per subject: DM)")
        lookups[md["Name"]] = {v.name for v in ig_variables().get((SDTMIG, md["Name"]), ())}
    check = tree(rule["Check"], lookups, top=True)
    scope = rule.get("Scope") or {}
    cg = sorted({r["Rule Identifier"]["Id"] for a in rule.get("Authorities", []) for s in a.get("Standards", [])
                 for r in s.get("References", []) if r.get("Rule Identifier")})
    lines = ["[[rule]]", f'id = "SR-{core[5:]}"', f'core = "{core}"']
    fb = [i for i in cg if i.startswith("FB")]
    cg = [i for i in cg if not i.startswith("FB")]
    if cg:
        lines.append(f"cg = {json.dumps(cg)}")
    if fb:
        lines.append(f"fb = {json.dumps(fb)}")
    lines.append('severity = "Error"')
    for key, field in (("classes", ("Classes", "Include")), ("exclude_classes", ("Classes", "Exclude")),
                       ("domains", ("Domains", "Include")), ("exclude_domains", ("Domains", "Exclude"))):
        values = _list(scope.get(field[0]), field[1])
        if values and values != ["ALL"]:
            lines.append(f"{key} = {json.dumps(values)}")
    if rule.get("Sensitivity") == "Dataset":
        lines.append('level = "dataset"')
    if lookups:
        lines.append(f"lookup = {json.dumps(sorted(lookups))}")
    lines.append(f"check = {json.dumps(check)}")
    outvars = [v for v in (rule.get("Outcome") or {}).get("Output Variables") or [] if not str(v).startswith("$")]
    if outvars:
        lines.append(f"report = {json.dumps(outvars)}")
    text = words(rule["Check"])
    lines.append(f"message = {json.dumps(text[0].upper() + text[1:])}")
    named = list(dict.fromkeys(re.findall(r"(?:--|\b)[A-Z][A-Z0-9]{1,7}\b(?!')", check)))
    shown = ", ".join(outvars) or ", ".join(n for n in named if n not in ("DM",)) or "the variables listed"
    fix = f"Correct {shown} on the listed records so the finding no longer holds"
    if cg or fb:
        fix += f" ({', '.join(cg + fb)})"
    lines.append(f"fix = {json.dumps(fix)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Print the drafts of the given CORE ids (default: all)."""
    ids = argv or sorted(p.name for p in ROOT.iterdir() if p.is_dir())
    for core in ids:
        try:
            print(draft(core))
        except Untranslatable as exc:
            print(f"{core}: not drafted: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
