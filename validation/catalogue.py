"""Every rule validation can report, in one catalogue: the spec-generated dataset checks
(:data:`subgen.core.conformance.suite.RULES`), the rules across datasets (:mod:`validation.rules_cross`,
:mod:`validation.rules_adam`), the SDTM rule table (:mod:`validation.rulebook`,
``validation/data/sdtm_rules.toml``), and the package and waiver rules defined here.

Each rule's CORE id (the CDISC conformance rule it answers to, if any) is its own field, so every
finding can carry it in its own column.

Rule ids are stable: waivers and reviewers' guides refer to them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from subgen.core.conformance import suite
from validation import rulebook, rules_adam, rules_cross
from validation.rulebase import CrossRule
from validation.waivers import INVALID_RULE, UNUSED_RULE


@dataclass(frozen=True)
class RuleInfo:
    """What the Rules sheet says about a rule."""

    id: str
    severity: str
    title: str
    fix: str
    citation: str
    kind: str  # "dataset" (spec-generated GX suite), "cross-dataset", "rule table", "package", "waiver"
    core: str = ""  # CDISC CORE id(s) the rule answers to, "; "-joined ("" when none)


#: The SDTM rule table's rules, in table order.
TABLE_RULES: tuple[CrossRule, ...] = rulebook.cross_rules()
_TABLE_CORE = {r.id: r.core for r in rulebook.load_rules()}

#: Rules across datasets, in run order (the rule table last).
CROSS_RULES: tuple[CrossRule, ...] = rules_cross.RULES + rules_adam.RULES + TABLE_RULES
_CORE_ID = re.compile(r"CORE-\d{6}")


def core_ids(citation: str) -> str:
    """The CORE ids a citation names, "; "-joined in order of appearance."""
    return "; ".join(dict.fromkeys(_CORE_ID.findall(citation or "")))

_PACKAGE = (
    RuleInfo("PKG-MISSING-DATASET", "Error", "a dataset the spec or define.xml declares has no XPT file",
             "Build the dataset (or remove it from the spec) and validate again",
             "define.xml / study spec: every declared dataset is submitted (FDA validator rule SD0061)", "package"),
    RuleInfo("PKG-UNDECLARED-DATASET", "Warning",
             "an XPT file is not declared in the spec or define.xml; it was checked against SDTMIG 3.4 / ADaMIG 1.3",
             "Declare the dataset in the spec (Datasets and Variables sheets) or define.xml, or remove the file",
             "define.xml: every submitted dataset is described (Define-XML v2.1 section 2)", "package"),
    RuleInfo("PKG-LAYER-ABSENT", "Notice", "a layer the study declares was not built, so it was not validated",
             "Build it (make adam) and validate again before export", "subgen validation", "package"),
    RuleInfo(INVALID_RULE, "Warning", "a waiver is malformed and was not applied",
             "Correct the waiver in waivers.toml (see the README section Validation reports)", "subgen waivers",
             "waiver"),
    RuleInfo(UNUSED_RULE, "Warning", "a waiver matches no finding",
             "Remove the waiver if the issue was fixed, or correct its rule, dataset or match fields",
             "subgen waivers", "waiver"),
)


def _catalogue() -> dict[str, RuleInfo]:
    out: dict[str, RuleInfo] = {}
    for s in suite.RULES.values():
        out[s.id] = RuleInfo(s.id, s.severity, s.title, s.fix, s.citation, "dataset", core_ids(s.citation))
    for x in CROSS_RULES:
        if x.id in _TABLE_CORE:
            out[x.id] = RuleInfo(x.id, x.severity, x.title, x.fix, x.citation, "rule table", _TABLE_CORE[x.id])
        else:
            out[x.id] = RuleInfo(x.id, x.severity, x.title, x.fix, x.citation, "cross-dataset", core_ids(x.citation))
    for info in _PACKAGE:
        out[info.id] = info
    return out


#: Rule id -> :class:`RuleInfo` for every rule.
RULES: Mapping[str, RuleInfo] = MappingProxyType(_catalogue())

__all__ = ["CROSS_RULES", "RULES", "RuleInfo", "TABLE_RULES", "core_ids"]
