"""JSON has no NaN or infinity."""

from __future__ import annotations

import math


def finite(values: dict[str, float | None]) -> dict[str, float | None]:
    """JSON has no NaN or infinity: an undefined value is ``null``."""
    return {k: v if v is None or math.isfinite(v) else None for k, v in values.items()}
