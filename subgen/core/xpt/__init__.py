"""SAS XPORT version 5 transport files, one module per concern (in the manner of R's xportr).

* :mod:`~subgen.core.xpt.checks` - what pyreadstat does not check before a frame becomes a file, every
  violation collected (names, labels, order, types, text an XPT v5 file cannot hold, IBM range)
* :mod:`~subgen.core.xpt.values` - the values and widths exactly as written
* :mod:`~subgen.core.xpt.write` - writing with pyreadstat: checked, stamped, verified, atomic
* :mod:`~subgen.core.xpt.timestamps` - the reproducible created/modified stamp
* :mod:`~subgen.core.xpt.header` - the raw header parser and the record counts from the bytes
* :mod:`~subgen.core.xpt.read` - the one reader every stage uses
* :mod:`~subgen.core.xpt.verify` - read-back verification with two independent readers

Import from the concern module; this package re-exports nothing.
"""
