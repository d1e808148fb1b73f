"""Validated command-line values (pydantic, like the settings): a bad value is a one-line
argparse error in Turkish, never a traceback. pydantic is imported only when such a value is
given: the control commands do not load it otherwise (cli/fast.py)."""

from __future__ import annotations

import argparse

MAX_TIMEOUT_S = 3600.0


def seconds(value: str) -> float:
    """``--timeout``-style durations: a finite number of seconds, > 0 and <= 3600."""
    from typing import Annotated

    from pydantic import Field, TypeAdapter, ValidationError

    adapter: TypeAdapter[float] = TypeAdapter(Annotated[float, Field(gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False)])
    try:
        return adapter.validate_python(value)
    except ValidationError:
        raise argparse.ArgumentTypeError(
            f"geçersiz süre {value!r}: 0'dan büyük, en fazla {MAX_TIMEOUT_S:.0f} saniyelik bir sayı olmalı"
        ) from None
