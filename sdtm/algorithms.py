"""The mapping algorithms named in the spec's Mappings sheet (its Algorithm column), all registered.

Two families, one vocabulary:

* record algorithms (``assign_*``, ``hardcode_*``, ``first_*``/``last_*``, ``study_id``, ``domain``,
  ``usubjid``) turn the raw rows of one source into one variable, named after sdtm.oak's
  algorithms so the spec reads as the code;
* dataset algorithms (``derive_*``) run after every source of the dataset is stacked, on the
  SDTM records, in the manner of admiral's derivations.

Every algorithm is a small function registered with :func:`sdtm.registry.algorithm`, which also
declares what its Raw Column and Value cells mean; the docstring is what ``subgen algorithms``
prints and what the README's algorithm table is built from. This module is the one place that
imports every algorithm module, so importing it fills :data:`REGISTRY`:

* :mod:`sdtm.assign` - record algorithms;
* :mod:`sdtm.derive` - general dataset algorithms (copy, constant, decode, --SEQ, --DY, look-up);
* :mod:`sdtm.findings` - baseline flag, standard results and units, reference ranges;
* :mod:`sdtm.visits` - VISIT, VISITNUM, EPOCH and the SE dataset.
"""

from __future__ import annotations

from sdtm import assign, derive, findings, visits
from sdtm.registry import REGISTRY, Algorithm

#: The modules whose import registers the algorithms.
MODULES = (assign, derive, findings, visits)

__all__ = ["MODULES", "REGISTRY", "Algorithm"]
