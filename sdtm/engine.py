"""The mapping engine: runs the spec's Sources and Mappings to build each SDTM dataset.

For each dataset, in an order that satisfies the algorithms' dependencies:

1. each Source reads its raw form, keeps the rows meeting its Filter, and applies the record
   algorithms mapped to it (rows of Source ``*`` apply to every source); sources are stacked;
   a dataset with a sheet of its own in the spec (TA, TE, TV, TI, TS) starts from that sheet;
2. dataset-level algorithms run in sheet order on the stacked records;
3. the frame gets exactly the spec's variables, in spec order, with the spec's types.

Rows keep ``__file``/``__row`` so every record traces back to its raw CSV line; the engine
records problems as data and never drops a record silently. The engine knows no algorithm by
name: what a Mappings row must hold is what its algorithm declares in :mod:`sdtm.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sdtm import dates
from sdtm.algorithms import REGISTRY
from sdtm.context import RESULT_COL, TOPIC_COL
from sdtm.design import design_frame, design_needs
from sdtm.registry import dependencies, is_dataset_level, reads_raw, unknown_algorithm_problem
from sdtm.supp import build_supp
from subgen.core.expr import ColumnRef, Expression, columns, evaluate
from subgen.core.frames import conform
from subgen.core.problems import Problem, ProblemError
from subgen.core.raw import FILE_COL, LINEAGE_COLS, ROW_COL, read_form
from subgen.core.spec.model import Codelist, Dataset, Form, Mapping, RawPart, RawRef, Source, Spec, Variable

SOURCE_COL = "__source"
#: Where a circular dependency between datasets is reported, and what to do about it.
CYCLE_COLUMN = "Algorithm"
CYCLE_FIX = "break the cycle: derive one of them from raw data instead"


@dataclass
class BuildContext:
    """Shared state of one SDTM build: the spec, the raw folder, forms read so far, finished datasets.

    Algorithms see it as a :class:`sdtm.context.MappingContext` (what they may use of it).
    """

    spec: Spec
    raw_dir: Path
    problems: list[Problem] = field(default_factory=list)
    forms: dict[str, pd.DataFrame] = field(default_factory=dict)
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    usage: list[pd.DataFrame] = field(default_factory=list)  # which raw rows fed which dataset, and how
    parents: dict[str, pd.DataFrame] = field(default_factory=dict)  # frames with qualifier columns, for SUPP--
    _required: dict[str, set[str]] | None = None

    # -- raw access -----------------------------------------------------------------------------
    def form_frame(self, name: str) -> pd.DataFrame:
        """The raw rows of form ``name`` (read once, with every column the spec references checked)."""
        if name not in self.forms:
            if self._required is None:
                self._required = required_raw_columns(self.spec)
            self.forms[name] = read_form(self.raw_dir, self.spec.form(name), self._required.get(name, set()))
        return self.forms[name]

    def form_of(self, rows: pd.DataFrame) -> Form:
        """The Form the rows come from."""
        return self.spec.form(rows.attrs["form"])

    def source_of(self, rows: pd.DataFrame) -> Source:
        """The Source the rows belong to."""
        return rows.attrs["source"]

    def column(self, rows: pd.DataFrame, ref: RawRef | RawPart | None, mapping: Mapping) -> pd.Series:
        """Resolve a parsed Raw Column reference (a :class:`RawRef` reads its first part).

        ``COL`` is a column of the source's form, ``form.COL`` is looked up by subject and
        ``form.COL@KEY`` by key.
        """
        part = ref.first if isinstance(ref, RawRef) else ref
        if part is None or not part.column:
            raise ProblemError([self.spec_problem(mapping, "Raw Column", "", "this algorithm needs a Raw Column")])
        form_name = part.form or rows.attrs["form"]
        if part.key is not None:
            return self.lookup_by_key(rows, form_name, part.column, part.key, mapping)
        if form_name == rows.attrs["form"]:
            return rows[part.column]
        return self.lookup_by_subject(rows, form_name, part.column, mapping.condition, mapping.dataset,
                                      f"{mapping.dataset}.{mapping.variable}")

    def lookup_by_key(self, rows: pd.DataFrame, form_name: str, col: str, key: str, mapping: Mapping) -> pd.Series:
        """``form.COL@KEY``: column ``col`` of the other form's row whose KEY equals this row's KEY.

        A key value with no row in the other form, or with several, is reported (file, row, column,
        value); the variable stays missing for it, so nothing is guessed.
        """
        other = self.form_frame(form_name)
        other = other[evaluate(mapping.condition, other)]
        own_key = rows[key].astype("string").str.strip()
        other_key = other[key].astype("string").str.strip()
        dup = other_key.duplicated(keep=False) & other_key.notna()
        purpose = f"{mapping.dataset}.{mapping.variable}"
        for file, row, value in other.loc[dup, [FILE_COL, ROW_COL, key]].itertuples(index=False):
            self.report(file, int(row), key, value, f"{key} {value} appears more than once in form {form_name}, so "
                        f"{purpose} cannot be looked up unambiguously", "correct the duplicate in the export",
                        "MAP-DUPLICATE")
        matched = other_key.isin(own_key.dropna()) & ~dup
        self.mark_used(other[matched], mapping.dataset, f"looked up by {key} for {purpose}")
        table = other[~dup].assign(__key=other_key[~dup]).dropna(subset="__key").set_index("__key")[col]
        values = own_key.map(table)
        missing = own_key.notna() & ~own_key.isin(table.index)
        for file, row, value in rows.loc[missing, [FILE_COL, ROW_COL, key]].itertuples(index=False):
            self.report(file, int(row), key, value, f"{key} {value} has no row in form {form_name}, so {purpose} "
                        "is left empty", f"check the {key} in the EDC or ask for the complete {form_name} export",
                        "MAP-LOOKUP")
        return values

    def lookup_by_subject(self, rows: pd.DataFrame, form_name: str, col: str, condition: Expression | None,
                          dataset: str, purpose: str) -> pd.Series:
        """Column ``col`` of form ``form_name`` (rows meeting ``condition``) matched to ``rows`` by subject.

        The other form must hold at most one such row per subject; duplicates are reported and the
        first row is used, so the ambiguity is never silent.
        """
        other = self.form_frame(form_name)
        other = other[evaluate(condition, other)]
        subj = self.spec.form(form_name).subject_column
        self.mark_used(other, dataset, f"looked up for {purpose}")
        dup = other[subj].duplicated(keep=False)
        if dup.any():
            for file, row, value, subject in other.loc[dup, [FILE_COL, ROW_COL, col, subj]].itertuples(index=False):
                self.report(file, int(row), col, value,
                            f"subject {subject} has more than one row in form {form_name}, so {purpose} "
                            "cannot be looked up unambiguously",
                            "remove the duplicate row in the EDC or narrow the mapping's Condition", "MAP-DUPLICATE")
            other = other[~other[subj].duplicated(keep="first")]
        return rows[self.form_of(rows).subject_column].map(other.set_index(subj)[col])

    def condition_mask(self, rows: pd.DataFrame, condition: Expression | None, dataset: str) -> pd.Series:
        """Rows meeting ``condition``; a ``form.COL`` reference reads another form's column for the same subject."""
        if condition is None:
            return pd.Series(True, index=rows.index)
        looked_up: dict[str, pd.Series] = {}  # each reference is looked up once (its problems reported once)

        def resolve(ref: ColumnRef) -> pd.Series:
            if ref.form is None or ref.key in rows.columns:
                return rows[ref.key]
            if ref.key not in looked_up:
                looked_up[ref.key] = self.lookup_by_subject(rows, ref.form, ref.column, None, dataset,
                                                            f"condition {condition.text!r}")
            return looked_up[ref.key]

        return evaluate(condition, rows, resolve)

    def subject_aggregate(self, rows: pd.DataFrame, mapping: Mapping, how: str) -> pd.Series:
        """Per-subject min/max complete date(time), or 'Y' if any row, from the form named in Raw Column."""
        form_name = (mapping.raw.first.form if mapping.raw else None) or rows.attrs["form"]
        other = self.form_frame(form_name)
        other = other[evaluate(mapping.condition, other)]
        subj = self.spec.form(form_name).subject_column
        self.mark_used(other, mapping.dataset, f"summarised for {mapping.variable}")
        subjects = rows[self.form_of(rows).subject_column]
        if how == "any":
            return pd.Series("Y", index=rows.index, dtype="string").where(subjects.isin(other[subj]))
        cols = [p.column for p in mapping.raw.resolved(form_name)] if mapping.raw else [""]
        iso, reason = dates.iso_datetime(other[cols[0]], other[cols[1]] if len(cols) > 1 else None)
        bad = reason.notna() & ~reason.fillna("").str.contains("time dropped")
        for file, row, value, why in zip(other.loc[bad, FILE_COL], other.loc[bad, ROW_COL],
                                         other.loc[bad, cols[0]], reason[bad]):
            self.report(file, int(row), cols[0], value, f"{mapping.dataset}.{mapping.variable}: {why}",
                        "correct the date in the EDC (DD-MON-YYYY; UN/UNK for unknown day/month) and re-export",
                        "MAP-DATE")
        complete = iso.where(iso.fillna("").str.len() >= 10)
        # Dates after the data cut are not in this delivery (their records are cut too): RFXENDTC etc. ignore them.
        complete = complete.where(complete.str.slice(0, 10) <= self.spec.study.data_cut.isoformat())
        per_subject = complete.groupby(other[subj]).agg(how)
        return subjects.map(per_subject).astype("string")

    def codelist_of(self, mapping: Mapping) -> Codelist:
        """The codelist the Variables sheet gives the mapped variable."""
        var = self.spec.dataset(mapping.dataset).variable(mapping.variable)
        return self.spec.codelist(var.codelist or "")

    def finished(self, name: str) -> pd.DataFrame:
        """A dataset built earlier in this run."""
        return self.datasets[name]

    def is_finished(self, name: str) -> bool:
        """True when the dataset ``name`` was built earlier in this run."""
        return name in self.datasets

    def mark_used(self, rows: pd.DataFrame, dataset: str, how: str) -> None:
        """Record that ``rows`` (raw rows with lineage columns) fed ``dataset`` (for reconciliation)."""
        if len(rows):
            self.usage.append(pd.DataFrame({"file": rows[FILE_COL].values, "row": rows[ROW_COL].values,
                                            "dataset": dataset, "how": how}))

    # -- problems -------------------------------------------------------------------------------
    def report(self, where: str, row: int | None, column: str | None, value: object, message: str, fix: str,
               rule: str, severity: str = "Error") -> None:
        """File one problem."""
        self.problems.append(Problem(where, row, column, None if value is None or value is pd.NA else str(value),
                                     message, fix, severity, rule))

    def report_rows(self, rows: pd.DataFrame, mask: pd.Series, mapping: Mapping, values: pd.Series,
                    message: str | pd.Series, fix: str, rule: str, severity: str = "Error") -> None:
        """File one problem per masked raw row, naming file, CSV line, raw column and value."""
        col = mapping.raw.label if mapping.raw else ""
        sub = rows.loc[mask, [FILE_COL, ROW_COL]]
        msgs = message[mask] if isinstance(message, pd.Series) else pd.Series(message, index=sub.index)
        for idx, file, row in sub.itertuples():
            self.report(file, int(row), col, values.get(idx), f"{mapping.dataset}.{mapping.variable}: {msgs[idx]}",
                        fix, rule, severity)

    def spec_problem(self, mapping: Mapping, column: str, value: str, message: str, fix: str = "") -> Problem:
        """A problem located in the Mappings sheet."""
        return Problem(f"{self.spec.path} [Mappings]", mapping.row, column, value, message, fix, "Error",
                       "SPEC-MAPPING")


def required_raw_columns(spec: Spec) -> dict[str, set[str]]:
    """Every raw column the spec reads, per form (checked when the form is read)."""
    need: dict[str, set[str]] = {f.name: {f.subject_column} | ({f.visit_column} if f.visit_column else set())
                                 for f in spec.forms}

    def add_condition(condition: Expression | None, own_form: str) -> None:
        for ref in columns(condition) if condition is not None else ():
            need.setdefault(ref.form or own_form, set()).add(ref.column)

    forms_of = {(s.dataset, s.name): s.form for s in spec.sources}
    # a source-specific row overrides a * row for the same variable, so the * row never reads that source
    specific = {(mp.dataset, mp.source, mp.variable) for mp in spec.mappings if mp.source != "*"}
    for s in spec.sources:
        try:
            need[s.form].update(col for col, _ in s.result_columns)
        except ValueError:
            pass  # reported by the loader
        add_condition(s.filter, s.form)
    for mp in spec.mappings:
        if not reads_raw(mp.algorithm):
            continue
        srcs = [forms_of[(mp.dataset, mp.source)]] if mp.source != "*" else [
            s.form for s in spec.sources
            if s.dataset == mp.dataset and (s.dataset, s.name, mp.variable) not in specific]
        for src_form in srcs:
            refs = mp.raw.resolved(src_form) if mp.raw else ()
            for part in refs:
                form = part.form or src_form
                need.setdefault(form, set()).add(part.column)
                if part.key:  # form.COL@KEY: the key is read on both forms
                    need[form].add(part.key)
                    need.setdefault(src_form, set()).add(part.key)
            # A Condition is read on the form the Raw Column points to when that is another form.
            first_form = refs[0].form if refs else None  # resolved(): never None when there are parts
            cond_form = first_form if first_form is not None and first_form != src_form else src_form
            add_condition(mp.condition, cond_form)
    return need


def check_mappings(spec: Spec) -> list[Problem]:
    """Static checks of the Mappings and Sources sheets before any data is read.

    Each Mappings row is checked against what its algorithm declares in the registry
    (:mod:`sdtm.registry`): the cells it needs, the level it works at, what its Value must name
    and whether the mapped variable needs a codelist.
    """
    out: list[Problem] = []
    where = f"{spec.path} [Mappings]"
    for mp in spec.mappings:
        alg = REGISTRY.get(mp.algorithm)
        if alg is None:
            out.append(unknown_algorithm_problem(mp, spec.path))
            continue
        if alg.needs_raw and not mp.raw_column:
            out.append(Problem(where, mp.row, "Raw Column", "", f"{mp.algorithm} needs a Raw Column",
                               "name the raw column (COL or form.COL)", rule="SPEC-MAPPING"))
        if alg.needs_value and not mp.value:
            out.append(Problem(where, mp.row, "Value", "", f"{mp.algorithm} needs a Value", rule="SPEC-MAPPING"))
        if alg.level == "dataset" and mp.source != "*":
            out.append(Problem(where, mp.row, "Source", mp.source, f"{mp.algorithm} works on the stacked dataset",
                               "set Source to *", rule="SPEC-MAPPING"))
        try:
            var = spec.dataset(mp.dataset).variable(mp.variable)
        except KeyError:
            continue  # reported by the loader
        if alg.codelist is not None and not var.codelist:
            out.append(Problem(where, mp.row, "Algorithm", mp.algorithm, f"{mp.dataset}.{mp.variable} has no codelist "
                               "in the Variables sheet", alg.codelist.fix, rule="SPEC-MAPPING"))
        if alg.value is not None:
            out.extend(alg.value.problems(spec, mp, var))
    for form in spec.forms:
        pii = {c.strip().upper() for c in form.personal_data}  # matched case-insensitively, as the raw header
        for mp in spec.mappings:
            if mp.raw is None or not reads_raw(mp.algorithm):
                continue
            src_forms = {s.form for s in spec.sources_for(mp.dataset) if mp.source in ("*", s.name)}
            for sf in src_forms:
                for part in mp.raw.resolved(sf):
                    if part.form == form.name and part.column.upper() in pii:
                        out.append(Problem(where, mp.row, "Raw Column", mp.raw_column,
                                           f"{form.name}.{part.shown} is declared personal data in the Forms sheet "
                                           "and must not reach SDTM", "remove the mapping, or (only if the protocol "
                                           "requires it) remove the column from Personal Data Columns",
                                           rule="SPEC-PII"))
    return out


def dependency_graph(spec: Spec, names: list[str]) -> dict[str, set[str]]:
    """For each dataset of ``names``, the others it reads: its algorithms' needs, its design sheet's, a SUPP's parent.

    Give it to :func:`subgen.core.order.build_order` for the order to build them in.
    """
    graph: dict[str, set[str]] = {n: set() for n in names}
    for mp in spec.mappings:
        if mp.dataset in graph:
            graph[mp.dataset].update(d for d in dependencies(mp) if d != mp.dataset and d in graph)
    for n in names:
        graph[n].update(d for d in design_needs(spec, n) if d != n and d in graph)
        if n.startswith("SUPP") and n[4:] in graph:
            graph[n].add(n[4:])  # supplemental qualifiers come from their parent's records
    return graph


def build_dataset(ctx: BuildContext, dataset: Dataset) -> pd.DataFrame:
    """Build one dataset from its sources, design sheet and mappings; the result keeps lineage columns."""
    if dataset.name.startswith("SUPP") and ctx.spec.supp_qualifiers(dataset.name[4:]):
        return build_supp_dataset(ctx, dataset)
    mappings = ctx.spec.mappings_for(dataset.name)
    record_maps = [m for m in mappings if not is_dataset_level(m.algorithm)]
    dataset_maps = [m for m in mappings if is_dataset_level(m.algorithm)]
    parts = []
    design = design_frame(ctx, dataset)
    if design is not None:
        parts.append(_apply_record(ctx, design, [m for m in record_maps if m.source == "*"], dataset))
    for source in ctx.spec.sources_for(dataset.name):
        all_rows = ctx.form_frame(source.form)
        all_rows.attrs = {"form": source.form, "source": source}
        keep = ctx.condition_mask(all_rows, source.filter, dataset.name)
        rows = all_rows[keep].copy()
        ctx.mark_used(rows, dataset.name, f"record (source {source.name})")
        ctx.mark_used(all_rows[~keep], dataset.name, f"excluded by source {source.name} filter: {source.filter}")
        if source.is_repeated:
            rows = repeat_items(rows, source)
        rows.attrs = {"form": source.form, "source": source}
        maps = [m for m in record_maps if m.source in ("*", source.name)]
        # A source-specific row overrides a * row for the same variable.
        specific = {m.variable for m in maps if m.source == source.name}
        maps = [m for m in maps if m.source == source.name or m.variable not in specific]
        out = _apply_record(ctx, rows, maps, dataset)
        out[SOURCE_COL] = source.name
        parts.append(out)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    frame = apply_data_cut(ctx, frame, dataset)  # before --SEQ and other derivations, so they see the cut data
    for mp in dataset_maps:
        alg = REGISTRY[mp.algorithm]
        if alg.generates:  # makes the records (with lineage) from finished datasets and the design
            frame = alg.records(frame, mp, ctx)
            continue
        try:
            values = alg.values(frame, mp, ctx)
        except KeyError as exc:  # it reads a variable of this dataset that no earlier row derives
            name = exc.args[0] if exc.args else None
            if name not in dataset.variable_names or name in frame.columns:
                raise
            raise ProblemError([ctx.spec_problem(mp, "Value", mp.value or "", f"{mp.dataset}.{mp.variable} is derived "
                                                 f"from {name}, which has no value yet at this row: {name} is derived "
                                                 "by a later Mappings row (or from this one: a circular derivation)",
                                                 f"put the row deriving {name} above this one, or derive one of them "
                                                 "from raw data")]) from exc
        mask = evaluate(mp.condition, frame)
        if mp.variable in frame.columns and mp.condition:
            frame[mp.variable] = values.where(mask, frame[mp.variable])
        else:
            frame[mp.variable] = values.where(mask)
    if ctx.spec.supp_qualifiers(dataset.name):
        ctx.parents[dataset.name] = frame  # with its qualifier columns, for SUPP<dataset>
    return finish_dataset(ctx, frame, dataset)


def build_supp_dataset(ctx: BuildContext, dataset: Dataset) -> pd.DataFrame:
    """SUPP-- records from the qualifier columns the parent's mappings made (ValueLevel declares each QNAM)."""
    parent_name = dataset.name[4:]
    parent = ctx.parents[parent_name]
    qualifiers = [{"qnam": vl.qnam, "qlabel": vl.description, "column": vl.qnam, "qorig": vl.origin,
                   "qeval": vl.evaluator} for vl in ctx.spec.supp_qualifiers(parent_name)]
    missing = [q["qnam"] for q in qualifiers if q["qnam"] not in parent.columns]
    for q in missing:
        vl = next(v for v in ctx.spec.supp_qualifiers(parent_name) if v.qnam == q)
        ctx.problems.append(Problem(f"{ctx.spec.path} [ValueLevel]", vl.row, "Where Clause", vl.where.text,
                                    f"{dataset.name} qualifier {q} is declared but nothing maps it",
                                    f"add a Mappings row for dataset {parent_name}, variable {q}", "Error",
                                    "SPEC-UNMAPPED"))
    records, problems = build_supp(parent, ctx.spec.dataset(parent_name),
                                   [q for q in qualifiers if q["qnam"] not in missing])
    ctx.problems.extend(problems)
    return finish_dataset(ctx, records, dataset, sort=False)  # build_supp orders IDVARVAL numerically


def repeat_items(rows: pd.DataFrame, source: Source) -> pd.DataFrame:
    """One row per raw row and result column (a questionnaire's items), with the item's result and topic.

    The result goes to ``__result`` and the topic (the source's Topic Value template with ``{n}``
    replaced by the item number) to ``__topic``; lineage columns are kept on every copy.
    """
    parts = [rows.assign(**{RESULT_COL: rows[col], TOPIC_COL: source.topic_for(number)})
             for col, number in source.result_columns]
    return pd.concat(parts, ignore_index=True) if parts else rows


def apply_data_cut(ctx: BuildContext, frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Leave out records that start after the Study sheet's DataCutDate; each one is reported, not lost.

    The start is --STDTC (else --DTC). A partial date is after the cut only when its known part is
    (e.g. 2026-11 for a cut of 2026-10-31). DM and trial-design datasets are never cut.
    """
    prefix = dataset.name[:2]
    var = next((v for v in (f"{prefix}STDTC", f"{prefix}DTC") if v in frame.columns), None)
    if var is None or dataset.name == "DM" or frame.empty:
        return frame
    cut = ctx.spec.study.data_cut.isoformat()
    start = frame[var].astype("string").str.slice(0, 10)
    cut_prefix = start.str.len().map({4: cut[:4], 7: cut[:7], 10: cut})  # compare only the known part
    after = (start > cut_prefix).fillna(False).astype(bool)
    if after.any():
        dropped = frame[after]
        for file, row, value in dropped[[FILE_COL, ROW_COL, var]].itertuples(index=False):
            ctx.report(file, int(row), var, value, f"{dataset.name} record starts after the data cut ({cut}); "
                       f"left out of {dataset.name}", "none needed: it is included after the next data cut",
                       "CUT-AFTER", "Notice")
        keys = set(zip(dropped[FILE_COL], dropped[ROW_COL]))
        ctx.usage = [u[~((u["dataset"] == dataset.name) & u["how"].str.startswith("record")
                         & pd.Series(list(zip(u["file"], u["row"])), index=u.index).isin(keys))]
                     for u in ctx.usage]
        ctx.mark_used(dropped, dataset.name, f"excluded: starts after the data cut {cut}")
    return frame[~after]


def _apply_record(ctx: BuildContext, rows: pd.DataFrame, maps: list[Mapping], dataset: Dataset) -> pd.DataFrame:
    out = pd.DataFrame(index=rows.index)
    for col in rows.columns:
        if col in dataset.variable_names and rows.attrs.get("design"):
            out[col] = rows[col]
    for mp in maps:
        values = REGISTRY[mp.algorithm].values(rows, mp, ctx)
        # A Condition filters the source rows, unless the algorithm reads another form (form.COL or a
        # per-subject summary): then it filters that form instead.
        reads_other_form = mp.raw is not None and mp.raw.reads_other_form
        if mp.condition and not reads_other_form and not REGISTRY[mp.algorithm].own_condition:
            mask = ctx.condition_mask(rows, mp.condition, dataset.name)
            values = values.where(mask, out[mp.variable] if mp.variable in out else pd.NA)
        out[mp.variable] = values
    for col in LINEAGE_COLS:
        out[col] = rows[col].values
    return out


def finish_dataset(ctx: BuildContext, frame: pd.DataFrame, dataset: Dataset, sort: bool = True) -> pd.DataFrame:
    """The records conformed to the spec (:func:`subgen.core.frames.conform`), lineage and source kept.

    Every declared variable nothing maps is reported (SPEC-UNMAPPED), and so is every raw value of a
    numeric variable that is not a number (MAP-NUMBER: left missing, never silently).
    """
    for name in [v.name for v in dataset.variables if v.name not in frame.columns]:
        v = dataset.variable(name)
        ctx.problems.append(Problem(f"{ctx.spec.path} [Variables]", v.row, "Variable", name,
                                    f"{dataset.name}.{name} is declared but nothing maps it",
                                    "add a row for it to the Mappings sheet (or remove the variable)",
                                    "Error", "SPEC-UNMAPPED"))

    def not_a_number(v: Variable, text: pd.Series) -> None:
        """Report each raw value of ``v`` that is not a number at its raw file and row."""
        for file, row, value in zip(frame.loc[text.index, FILE_COL], frame.loc[text.index, ROW_COL], text):
            ctx.report(file, int(row), v.name, value, f"{dataset.name}.{v.name} is numeric but the value is "
                       "not a number; left missing", "correct the value in the EDC (digits and a decimal "
                       "point), or record the test as not done", "MAP-NUMBER")

    return conform(frame, dataset, keep=(*LINEAGE_COLS, SOURCE_COL), sort=sort,
                   on_not_number=not_a_number if FILE_COL in frame.columns else None)


def strip_lineage(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without engine bookkeeping columns (what goes into the XPT file)."""
    return frame.drop(columns=[c for c in (*LINEAGE_COLS, SOURCE_COL) if c in frame.columns])
