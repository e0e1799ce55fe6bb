"""A stage's records in the shape the spec declares: one ``conform`` for SDTM and ADaM datasets.

Both stages finish every dataset the same way: exactly the spec's variables, in spec order,
numeric variables as ``Float64`` and character variables as ``string`` (blank text becomes
missing), bookkeeping columns (lineage, trace) carried along, records sorted by the dataset's
keys. What a stage does on top (reporting unmapped variables, text that is not a number) it
does around this function, through ``on_not_number``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from subgen.core.distinct import stripped
from subgen.core.spec.model import Dataset, Variable

#: Called with a numeric variable and the text of its non-blank values that are not numbers
#: (indexed like the frame given to :func:`conform`); those values become missing.
NotNumber = Callable[[Variable, pd.Series], None]


def conform(frame: pd.DataFrame, dataset: Dataset, keep: Sequence[str] = (), sort: bool = True,
            on_not_number: NotNumber | None = None) -> pd.DataFrame:
    """Exactly the spec's variables in spec order, typed (numeric Float64, character string), plus ``keep``.

    A variable the frame lacks is all missing. ``keep`` names bookkeeping columns copied as they
    are when the frame has them. With ``sort`` the records are sorted by the dataset's key
    variables (stable, missing first); the index is reset. ``on_not_number`` (when given) hears
    of every numeric variable whose text values include one that is not a number.
    """
    out = pd.DataFrame(index=frame.index)
    for v in dataset.variables:
        col = frame[v.name] if v.name in frame.columns else pd.Series(pd.NA, index=frame.index)
        if v.is_numeric:
            out[v.name] = pd.to_numeric(col, errors="coerce").astype("Float64")
            if on_not_number is None or pd.api.types.is_numeric_dtype(col):  # numbers already: no text lost
                continue
            text = stripped(col)
            bad = (text.ne("") & out[v.name].isna()).fillna(False)
            if bad.any():
                on_not_number(v, text[bad])
        else:
            s = col.astype("string")
            out[v.name] = s.mask(stripped(s).eq(""))
    for name in keep:
        if name in frame.columns:
            out[name] = frame[name].values
    sort_cols = [k for k in dataset.keys if k in out.columns] if sort else []
    if sort_cols:
        out = out.sort_values(sort_cols, kind="stable", na_position="first")
    return out.reset_index(drop=True)
