"""The one error type of the expression language, with the position and a fix in its message."""

from __future__ import annotations


class ExprError(ValueError):
    """A cell that cannot be read (or evaluated); the message says what was expected and how to write it.

    ``position`` is the 1-based character offset of the problem in ``text`` (None when the problem is
    the whole cell), ``reason`` the bare explanation without the cell text.
    """

    def __init__(self, text: str, position: int | None, reason: str, example: str | None = None,
                 what: str = "condition") -> None:
        self.text = text
        self.position = position
        self.reason = reason
        self.example = example
        where = f" at character {position}" if position is not None else ""
        self.headline = f'cannot read {what} "{text}"{where}: {reason}'
        super().__init__(self.headline + (f"; {self.fix}" if example else ""))

    @property
    def fix(self) -> str:
        """What to write instead (``write e.g. ...``), or "" when there is no example: a Problem's fix."""
        return f"write e.g. {self.example}" if self.example else ""


class MissingColumnError(ExprError, KeyError):
    """An expression reads a column the data does not have (a KeyError too, for callers that catch that)."""

    def __str__(self) -> str:
        """The message itself (KeyError would show its repr)."""
        return str(self.args[0])


def missing_column(text: str, ref_key: str, position: int, suggestion: str | None = None) -> MissingColumnError:
    """The error for a reference to an absent column; ``suggestion`` when it was likely meant as a value."""
    if suggestion is not None:
        return MissingColumnError(text, position, "expected a quoted value, a number or a column (there is no "
                                  f"column {ref_key})", suggestion)
    err = MissingColumnError(text, position, f"there is no column {ref_key}")
    message = f'the condition "{text}" reads {ref_key} (character {position}), which the dataset does not have (yet)'
    err.args = (message,)
    err.headline = message
    return err
