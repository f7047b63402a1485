"""The published verdict of residents' evaluations (DESIGN.md, "A proposal's life").

More than half 满意 → satisfied; otherwise 满意 and 基本满意 together more than half →
basically satisfied; otherwise dissatisfied. Over the evaluations given; none given → no verdict
(未形成评价). Integer arithmetic only ("more than half" is ``2 × n > total``).
"""

from __future__ import annotations

SATISFIED, BASIC, DISSATISFIED, NONE = "satisfied", "basic", "dissatisfied", "none"


def verdict_compute(satisfied: int, basic: int, dissatisfied: int) -> str:
    """The verdict for these counts of 满意 / 基本满意 / 不满意."""
    if min(satisfied, basic, dissatisfied) < 0:
        raise ValueError("counts must not be negative")
    total = satisfied + basic + dissatisfied
    if total == 0:
        return NONE
    if 2 * satisfied > total:
        return SATISFIED
    if 2 * (satisfied + basic) > total:
        return BASIC
    return DISSATISFIED
