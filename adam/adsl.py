"""ADSL-specific derivations: end-of-study status from the disposition records.

Everything else in ADSL comes from the generic derivations (:mod:`adam.generic`): DM variables,
merged dates (RANDDT, TRTSDT, EOSDT), population flags (``derive_var_exist_flag``), groups
(``derive_var_cat``) and codes (``derive_var_code``), as the ADSL rows of the Derivations sheet say.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adam.registry import derivation
from subgen.core.expr import Expression, evaluate


@derivation()
def derive_var_eosstt(dataset: pd.DataFrame, new_var: str, dataset_add: pd.DataFrame, filter: Expression,
                      status_var: str = "DSDECOD", completed: str = "COMPLETED",
                      by_vars: tuple[str, ...] = ("USUBJID",)) -> pd.DataFrame:
    """End-of-study status (ADaM CT SBJTSTAT): COMPLETED, DISCONTINUED, or ONGOING without a disposition record.

    ``filter`` selects the end-of-study disposition records of ``dataset_add`` (DS); a record
    whose ``status_var`` is ``completed`` gives COMPLETED, any other gives DISCONTINUED.
    """
    ds = dataset_add[evaluate(filter, dataset_add)]
    done = ds[status_var].astype("string").str.upper().eq(completed.upper()).fillna(False)
    per = ds.assign(__done=done.astype(bool))[list(by_vars) + ["__done"]].groupby(list(by_vars))["__done"].any()
    key = dataset[by_vars[0]] if len(by_vars) == 1 else pd.MultiIndex.from_frame(dataset[list(by_vars)])
    found = pd.Series(key).map(per) if len(by_vars) == 1 else pd.Series(per.reindex(key).to_numpy())
    found.index = dataset.index
    status = np.where(found.isna(), "ONGOING", np.where(found.fillna(False).astype(bool), "COMPLETED",
                                                           "DISCONTINUED"))
    out = dataset.copy()
    out[new_var] = pd.Series(status, index=dataset.index, dtype="string")
    return out
