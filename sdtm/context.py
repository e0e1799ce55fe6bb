"""What a mapping algorithm may use of the build: the spec, raw forms, finished datasets, problem reporting.

Algorithms are typed against :class:`MappingContext`, not the engine's whole build state
(:class:`sdtm.engine.BuildContext` implements it), so what an algorithm can reach is written down
in one place and a test can hand an algorithm any object with these members.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from subgen.core.raw import FILE_COL, ROW_COL, raw_row
from subgen.core.spec.model import Codelist, Form, Mapping, RawPart, RawRef, Source, Spec

#: Columns the engine adds to the rows of a repeated source (one row per questionnaire item):
#: the item's raw result and its topic (test code).
RESULT_COL = "__result"
TOPIC_COL = "__topic"


class MappingContext(Protocol):
    """The build as a mapping algorithm sees it."""

    spec: Spec

    # -- raw forms ----------------------------------------------------------------------------
    def column(self, rows: pd.DataFrame, ref: RawRef | RawPart | None, mapping: Mapping) -> pd.Series:
        """A Raw Column reference resolved for ``rows``: ``COL``, ``form.COL`` (by subject) or ``form.COL@KEY``."""
        ...

    def subject_aggregate(self, rows: pd.DataFrame, mapping: Mapping, how: str) -> pd.Series:
        """Per-subject min/max complete date(time), or 'Y' if any row, from the form named in Raw Column."""
        ...

    def form_of(self, rows: pd.DataFrame) -> Form:
        """The Form the rows come from."""
        ...

    def source_of(self, rows: pd.DataFrame) -> Source:
        """The Source the rows belong to."""
        ...

    # -- spec and finished datasets ---------------------------------------------------------------
    def codelist_of(self, mapping: Mapping) -> Codelist:
        """The codelist the Variables sheet gives the mapped variable."""
        ...

    def finished(self, name: str) -> pd.DataFrame:
        """A dataset built earlier in this run."""
        ...

    def is_finished(self, name: str) -> bool:
        """True when the dataset ``name`` was built earlier in this run."""
        ...

    # -- problems -------------------------------------------------------------------------------
    def report(self, where: str, row: int | None, column: str | None, value: object, message: str, fix: str,
               rule: str, severity: str = "Error") -> None:
        """File one problem."""
        ...

    def report_rows(self, rows: pd.DataFrame, mask: pd.Series, mapping: Mapping, values: pd.Series,
                    message: str | pd.Series, fix: str, rule: str, severity: str = "Error") -> None:
        """File one problem per masked raw row, naming file, CSV line, raw column and value."""
        ...


def report_records(ctx: MappingContext, frame: pd.DataFrame, mask: pd.Series, column: str, message: str, fix: str,
                   rule: str, severity: str = "Error") -> None:
    """One problem per masked SDTM record, located at its raw file/row when lineage is present."""
    if not mask.any():
        return
    sub = frame.loc[mask]
    for idx in sub.index:
        file = sub.at[idx, FILE_COL] if FILE_COL in sub else "dataset"
        row = raw_row(sub, idx) if ROW_COL in sub else int(idx) + 1
        value = sub.at[idx, column] if column in sub else None
        ctx.report(str(file), row, column, value, message, fix, rule, severity)
