"""Elementwise work done once per distinct value: moved to :mod:`subgen.core.distinct`.

Kept as a name for :mod:`sdtm.conditions`, which is being replaced by the expression language
(its import is not rewritten meanwhile); new code imports :mod:`subgen.core.distinct`.
"""

from subgen.core.distinct import map_distinct, on_distinct, stripped

__all__ = ["map_distinct", "on_distinct", "stripped"]
