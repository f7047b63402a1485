"""The count of a council ballot (表决计票): from the copied rules and the totals to the outcome.

Pure: no database, no clock, no models beyond the ``ThresholdRule`` constants. A ballot copies
its council's rules of procedure (议事规则) when it opens; whoever closes it passes that copy and
the totals here and stores or shows what comes back.

The arithmetic is the one in DESIGN.md ("Rules of procedure", "Decisions: Arithmetic"):

- **base**: the seated members who are not recused (回避) from this proposal.
- **participation** = yes + no + abstain; **votes cast** = yes + no.
- **quorum (法定人数)** is met when participation ≥ quorum × base: *at least*, not more than.
  A ballot that misses quorum is invalid (无效), whatever the votes say.
- **threshold (表决规则)**, one of ``council.models.ThresholdRule``:
  ``majority_of_members``: yes > base / 2;
  ``majority_of_cast``: yes > cast / 2;
  ``two_thirds_of_cast``: yes ≥ 2/3 × cast.
- Abstentions (弃权) count toward quorum, never toward yes. A tie fails. With no yes-or-no vote
  cast nothing passes.

Everything is exact: integers and ``fractions.Fraction``, never float.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction

from django.utils.translation import gettext, ngettext, pgettext

from council.models import ThresholdRule

APPROVED = "approved"
REJECTED = "rejected"
INVALID = "invalid"

YES = "yes"
NO = "no"
ABSTAIN = "abstain"
CHOICES = (YES, NO, ABSTAIN)

THRESHOLDS = frozenset(ThresholdRule.values)


def _check_quorum(quorum) -> Fraction:
    """``quorum`` as a ``Fraction`` in (0, 1]; floats are refused, not rounded."""
    if isinstance(quorum, bool) or not isinstance(quorum, numbers.Rational):
        raise TypeError(f"quorum must be a Fraction or an int, not {type(quorum).__name__}")
    quorum = Fraction(quorum)
    if not 0 < quorum <= 1:
        raise ValueError(f"quorum must be in (0, 1], got {quorum}")
    return quorum


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def _quorum_label(quorum: Fraction) -> str:
    """Always ``numerator/denominator`` ("2/3", "1/1"), in sentences and in ``as_dict``."""
    return f"{quorum.numerator}/{quorum.denominator}"


def quorum_met(quorum: Fraction, base: int, participation: int) -> bool:
    """Whether ``participation`` of ``base`` eligible members meets the quorum (法定人数).

    Met when participation ≥ quorum × base: reaching the fraction exactly is enough. Shared
    with yearly rounds, where approval ballots have a quorum and no threshold.

    Raises ``ValueError`` if the quorum is not in (0, 1], a count is negative, or participation
    exceeds the base; ``TypeError`` for a float quorum or non-integer counts.
    """
    quorum = _check_quorum(quorum)
    base = _check_count("base", base)
    participation = _check_count("participation", participation)
    if participation > base:
        raise ValueError(f"participation {participation} exceeds the base of {base}")
    return participation >= quorum * base


@dataclass(frozen=True)
class Tally:
    """The totals of one ballot under the rules it copied, and what follows from them.

    Constructing one validates it (as ``tally_compute`` does), so every ``Tally`` is coherent:
    counts are non-negative integers, participation ≤ base, the quorum is a ``Fraction`` in
    (0, 1] and the threshold is a ``ThresholdRule`` value (stored as a plain ``str``).
    """

    base: int
    yes: int
    no: int
    abstain: int
    quorum: Fraction
    threshold: str

    def __post_init__(self):
        for name in ("base", "yes", "no", "abstain"):
            _check_count(name, getattr(self, name))
        object.__setattr__(self, "quorum", _check_quorum(self.quorum))
        if self.threshold not in THRESHOLDS:
            raise ValueError(
                f"unknown threshold {self.threshold!r}; expected one of {sorted(THRESHOLDS)}"
            )
        # A ThresholdRule member is a str subclass; keep the plain value (JSON, equality).
        object.__setattr__(self, "threshold", str(ThresholdRule(self.threshold).value))
        if self.participation > self.base:
            raise ValueError(
                f"{self.participation} members took part but only {self.base} may vote"
            )

    @property
    def participation(self) -> int:
        """Members who took part: yes + no + abstain (what quorum is judged on)."""
        return self.yes + self.no + self.abstain

    @property
    def cast(self) -> int:
        """Votes cast: yes + no (abstentions are not cast votes)."""
        return self.yes + self.no

    @property
    def quorum_needed(self) -> int:
        """The smallest participation that meets quorum: ⌈quorum × base⌉."""
        return math.ceil(self.quorum * self.base)

    @property
    def quorum_still_needed(self) -> int:
        """How many more members must take part for the quorum to be met (0 once it is)."""
        return max(0, self.quorum_needed - self.participation)

    @property
    def valid(self) -> bool:
        """Whether quorum is met (participation ≥ quorum × base)."""
        return quorum_met(self.quorum, self.base, self.participation)

    @property
    def yes_needed(self) -> int:
        """The smallest number of yes votes that passes, given this base and these votes cast.

        Always at least 1. Under the cast-based thresholds it may exceed ``cast`` (e.g. when
        every participant abstained): then no split of the cast votes passes.
        """
        if self.threshold == ThresholdRule.MAJORITY_OF_MEMBERS:
            return self.base // 2 + 1
        if self.threshold == ThresholdRule.MAJORITY_OF_CAST:
            return self.cast // 2 + 1
        return max(1, math.ceil(Fraction(2 * self.cast, 3)))

    @property
    def yes_still_needed(self) -> int | None:
        """How many more yes votes, from members who have not taken part yet, would meet the
        threshold: 0 if the yes votes meet it as they stand, None if no number of them would
        (the members still to vote are too few). The quorum is counted apart
        (``quorum_still_needed``): any vote, yes, no or abstain, counts toward it.

        What the ballot page shows an open roll-call ballot's readers as 「还需 N 票」.
        """
        for more in range(self.base - self.participation + 1):
            then = replace(self, yes=self.yes + more)
            if then.cast > 0 and then.yes >= then.yes_needed:
                return more
        return None

    @property
    def passed(self) -> bool:
        """Valid, at least one vote cast, and the threshold met (a tie fails)."""
        return self.valid and self.cast > 0 and self.yes >= self.yes_needed

    @property
    def outcome(self) -> str:
        """``"approved"``, ``"rejected"`` or ``"invalid"`` (quorum missed)."""
        if not self.valid:
            return INVALID
        return APPROVED if self.passed else REJECTED

    def _turnout(self) -> str:
        turnout = ngettext(
            "%(participation)d of %(base)d member voted",
            "%(participation)d of %(base)d members voted",
            self.base,
        ) % {"participation": self.participation, "base": self.base}
        if not self.abstain:
            return turnout
        abstained = ngettext("%(abstain)d abstained", "%(abstain)d abstained", self.abstain) % {
            "abstain": self.abstain
        }
        # Translators: turnout with abstentions, e.g. "12 of 15 members voted (1 abstained)".
        return gettext("%(turnout)s (%(abstained)s)") % {
            "turnout": turnout,
            "abstained": abstained,
        }

    def _judgement(self) -> str:
        """Why the yes votes do or do not meet the threshold (for a valid ballot)."""
        values = {"yes": self.yes, "cast": self.cast, "base": self.base}
        met = self.passed
        if self.threshold == ThresholdRule.MAJORITY_OF_MEMBERS:
            if met:
                text = ngettext(
                    "%(yes)d yes is more than half of %(base)d",
                    "%(yes)d yes is more than half of %(base)d",
                    self.yes,
                )
            else:
                text = ngettext(
                    "%(yes)d yes is not more than half of %(base)d",
                    "%(yes)d yes is not more than half of %(base)d",
                    self.yes,
                )
            return text % values
        if self.cast == 0:
            return gettext("no yes or no votes were cast")
        if self.threshold == ThresholdRule.MAJORITY_OF_CAST:
            if met:
                text = ngettext(
                    "%(yes)d yes of %(cast)d vote cast is more than half",
                    "%(yes)d yes of %(cast)d votes cast is more than half",
                    self.cast,
                )
            elif self.yes == self.no:
                text = ngettext(
                    "%(yes)d yes of %(cast)d vote cast is not more than half (a tie fails)",
                    "%(yes)d yes of %(cast)d votes cast is not more than half (a tie fails)",
                    self.cast,
                )
            else:
                text = ngettext(
                    "%(yes)d yes of %(cast)d vote cast is not more than half",
                    "%(yes)d yes of %(cast)d votes cast is not more than half",
                    self.cast,
                )
            return text % values
        if met:
            text = ngettext(
                "%(yes)d yes of %(cast)d vote cast is at least two-thirds",
                "%(yes)d yes of %(cast)d votes cast is at least two-thirds",
                self.cast,
            )
        else:
            text = ngettext(
                "%(yes)d yes of %(cast)d vote cast is less than two-thirds",
                "%(yes)d yes of %(cast)d votes cast is less than two-thirds",
                self.cast,
            )
        return text % values

    def sentence(self) -> str:
        """One plain sentence, in the active language, giving the outcome and why.

        e.g. "12 of 15 members voted; 9 yes is more than half of 15: approved."
        """
        if not self.valid:
            return gettext(
                # Translators: the quorum is a fraction of the base, e.g. "7 of 15 members
                # voted, fewer than the quorum of 10 (2/3 of 15): the ballot is not valid."
                "%(turnout)s, fewer than the quorum of %(quorum_needed)d "
                "(%(quorum)s of %(base)d): the ballot is not valid."
            ) % {
                "turnout": self._turnout(),
                "quorum_needed": self.quorum_needed,
                "quorum": _quorum_label(self.quorum),
                "base": self.base,
            }
        if self.passed:
            verdict = pgettext("ballot outcome", "approved")
        else:
            verdict = pgettext("ballot outcome", "rejected")
        # Translators: turnout; why the threshold is or is not met: approved / rejected.
        # e.g. "12 of 15 members voted; 9 yes is more than half of 15: approved."
        return gettext("%(turnout)s; %(judgement)s: %(verdict)s.") % {
            "turnout": self._turnout(),
            "judgement": self._judgement(),
            "verdict": verdict,
        }

    def as_dict(self) -> dict:
        """JSON-friendly: the counts, the rules (quorum as "2/3") and what follows."""
        return {
            "base": self.base,
            "yes": self.yes,
            "no": self.no,
            "abstain": self.abstain,
            "quorum": _quorum_label(self.quorum),
            "threshold": self.threshold,
            "participation": self.participation,
            "cast": self.cast,
            "quorum_needed": self.quorum_needed,
            "valid": self.valid,
            "yes_needed": self.yes_needed,
            "passed": self.passed,
            "outcome": self.outcome,
        }


def tally_compute(
    *, quorum: Fraction, threshold: str, base: int, yes: int, no: int, abstain: int
) -> Tally:
    """The ``Tally`` of a ballot with these copied rules and these totals.

    Raises ``ValueError`` if a count is negative, participation exceeds the base, the
    threshold is not a ``ThresholdRule`` value or the quorum is not in (0, 1]; ``TypeError``
    for a float quorum or non-integer counts.
    """
    return Tally(base=base, yes=yes, no=no, abstain=abstain, quorum=quorum, threshold=threshold)


def count_choices(choices: Iterable[str]) -> tuple[int, int, int]:
    """``(yes, no, abstain)`` from members' choices, each ``"yes"``, ``"no"`` or ``"abstain"``.

    Raises ``ValueError`` on anything else, so that a bad row cannot silently go uncounted.
    """
    counts = Counter()
    for choice in choices:
        if not isinstance(choice, str) or choice not in CHOICES:
            raise ValueError(f"unknown choice {choice!r}; expected one of {CHOICES}")
        counts[str(choice)] += 1
    return counts[YES], counts[NO], counts[ABSTAIN]
