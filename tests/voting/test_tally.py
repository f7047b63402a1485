"""The ballot count (voting.tally): checked against an integer-only oracle, then by example."""

import json
from fractions import Fraction

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from council.models import ThresholdRule
from voting.tally import Tally, count_choices, quorum_met, tally_compute

TWO_THIRDS = Fraction(2, 3)
THRESHOLDS = [t.value for t in ThresholdRule]


# --- An independent oracle: integers only, cross-multiplication and counting up. ---------------


def oracle_quorum_needed(num, den, base):
    """Count up to the first participation p with p / base >= num / den."""
    p = 0
    while p * den < num * base:
        p += 1
    return p


def oracle_meets(threshold, y, cast, base):
    if threshold == "majority_of_members":
        return 2 * y > base
    if threshold == "majority_of_cast":
        return 2 * y > cast
    assert threshold == "two_thirds_of_cast"
    return 3 * y >= 2 * cast


def oracle_yes_needed(threshold, cast, base):
    y = 1
    while not oracle_meets(threshold, y, cast, base):
        y += 1
    return y


def oracle(num, den, threshold, base, yes, no, abstain):
    participation = yes + no + abstain
    cast = yes + no
    valid = participation * den >= num * base
    passed = valid and cast > 0 and oracle_meets(threshold, yes, cast, base)
    return {
        "quorum_needed": oracle_quorum_needed(num, den, base),
        "valid": valid,
        "yes_needed": oracle_yes_needed(threshold, cast, base),
        "passed": passed,
        "outcome": "invalid" if not valid else ("approved" if passed else "rejected"),
    }


@st.composite
def ballots(draw):
    base = draw(st.integers(0, 60))
    yes = draw(st.integers(0, base))
    no = draw(st.integers(0, base - yes))
    abstain = draw(st.integers(0, base - yes - no))
    den = draw(st.integers(1, 10))
    num = draw(st.integers(1, den))
    threshold = draw(st.sampled_from(THRESHOLDS))
    return num, den, threshold, base, yes, no, abstain


@given(ballots())
def test_tally_agrees_with_an_integer_oracle(ballot):
    num, den, threshold, base, yes, no, abstain = ballot
    tally = tally_compute(
        quorum=Fraction(num, den), threshold=threshold, base=base, yes=yes, no=no, abstain=abstain
    )
    expected = oracle(num, den, threshold, base, yes, no, abstain)
    got = {key: getattr(tally, key) for key in expected}
    assert got == expected
    assert tally.participation == yes + no + abstain
    assert tally.cast == yes + no
    assert tally.valid == quorum_met(Fraction(num, den), base, yes + no + abstain)
    # A sentence exists for every case and names the turnout.
    assert tally.sentence().startswith(f"{yes + no + abstain} of {base} member")


@given(ballots())
def test_yes_needed_is_the_smallest_yes_that_passes(ballot):
    """Keeping participation and cast fixed, moving votes between no and yes."""
    num, den, threshold, base, yes, no, abstain = ballot
    cast = yes + no
    rules = {"quorum": Fraction(num, den), "threshold": threshold, "base": base}
    needed = tally_compute(**rules, yes=yes, no=no, abstain=abstain).yes_needed
    for y in range(cast + 1):
        tally = tally_compute(**rules, yes=y, no=cast - y, abstain=abstain)
        assert tally.yes_needed == needed
        assert tally.passed == (tally.valid and y >= needed)


@given(ballots())
def test_as_dict_is_json_and_matches_the_properties(ballot):
    num, den, threshold, base, yes, no, abstain = ballot
    tally = tally_compute(
        quorum=Fraction(num, den), threshold=threshold, base=base, yes=yes, no=no, abstain=abstain
    )
    data = json.loads(json.dumps(tally.as_dict()))
    assert Fraction(data.pop("quorum")) == Fraction(num, den)
    assert data == {key: getattr(tally, key) for key in data}
    assert set(data) == {
        "base",
        "yes",
        "no",
        "abstain",
        "threshold",
        "participation",
        "cast",
        "quorum_needed",
        "valid",
        "yes_needed",
        "passed",
        "outcome",
    }


# --- Named behaviour. -------------------------------------------------------------------------


def tally(threshold=ThresholdRule.MAJORITY_OF_MEMBERS, quorum=TWO_THIRDS, base=15, **counts):
    return tally_compute(quorum=quorum, threshold=threshold, base=base, **counts)


def test_the_issue_example():
    t = tally(yes=9, no=3, abstain=0)
    assert t.outcome == "approved"
    assert t.sentence() == "12 of 15 members voted; 9 yes is more than half of 15: approved."


def test_majority_of_members_counts_the_whole_base_not_the_votes_cast():
    t = tally(yes=7, no=3, abstain=2)
    assert t.cast == 10 and t.yes > t.cast / 2
    assert t.yes_needed == 8
    assert t.outcome == "rejected"
    assert t.sentence() == (
        "12 of 15 members voted (2 abstained); 7 yes is not more than half of 15: rejected."
    )


@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_quorum_is_met_at_exactly_quorum_times_base(threshold):
    at = tally(threshold, yes=10, no=0, abstain=0)  # 10 = 2/3 × 15
    below = tally(threshold, yes=9, no=0, abstain=0)
    assert at.quorum_needed == 10
    assert at.valid and at.outcome == "approved"
    assert not below.valid and below.outcome == "invalid" and not below.passed


def test_quorum_needed_rounds_up():
    t = tally(base=14, yes=0, no=0, abstain=0)  # 2/3 × 14 = 9⅓
    assert t.quorum_needed == 10
    assert quorum_met(TWO_THIRDS, 14, 10)
    assert not quorum_met(TWO_THIRDS, 14, 9)


def test_quorum_of_one_needs_everyone():
    assert tally(quorum=Fraction(1), yes=14, no=0, abstain=0).outcome == "invalid"
    assert tally(quorum=Fraction(1), yes=14, no=0, abstain=1).outcome == "approved"


def test_a_tie_fails_under_majority_of_cast():
    t = tally(ThresholdRule.MAJORITY_OF_CAST, yes=5, no=5, abstain=2)
    assert t.valid and not t.passed and t.outcome == "rejected"
    assert t.yes_needed == 6
    assert t.sentence() == (
        "12 of 15 members voted (2 abstained); 5 yes of 10 votes cast is not more than half "
        "(a tie fails): rejected."
    )


def test_majority_of_cast_passes_with_one_more_yes():
    t = tally(ThresholdRule.MAJORITY_OF_CAST, yes=6, no=5, abstain=1)
    assert t.outcome == "approved"
    assert t.sentence() == (
        "12 of 15 members voted (1 abstained); 6 yes of 11 votes cast is more than half: approved."
    )


def test_abstentions_count_for_quorum_not_for_yes():
    t = tally(ThresholdRule.MAJORITY_OF_CAST, yes=2, no=1, abstain=8)
    assert t.participation == 11 and t.cast == 3
    assert t.valid  # 11 ≥ 10 only thanks to the abstentions
    assert t.outcome == "approved"  # 2 of 3 cast
    without = tally(ThresholdRule.MAJORITY_OF_CAST, yes=2, no=1, abstain=0)
    assert without.outcome == "invalid"
    # Under the members' majority, abstaining is no help to yes.
    assert tally(yes=7, no=0, abstain=8).outcome == "rejected"


def test_two_thirds_exactly_met_passes():
    t = tally(ThresholdRule.TWO_THIRDS_OF_CAST, yes=8, no=4, abstain=0)
    assert t.yes_needed == 8
    assert t.outcome == "approved"
    assert t.sentence() == (
        "12 of 15 members voted; 8 yes of 12 votes cast is at least two-thirds: approved."
    )
    short = tally(ThresholdRule.TWO_THIRDS_OF_CAST, yes=7, no=4, abstain=0)  # 7/11 < 2/3
    assert short.yes_needed == 8 and short.outcome == "rejected"
    assert short.sentence() == (
        "11 of 15 members voted; 7 yes of 11 votes cast is less than two-thirds: rejected."
    )


@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_all_abstain_is_rejected_under_every_threshold(threshold):
    t = tally(threshold, yes=0, no=0, abstain=15)
    assert t.valid and t.cast == 0
    assert not t.passed and t.outcome == "rejected"
    assert t.yes_needed >= 1
    assert t.sentence().endswith(": rejected.")
    assert "15 abstained" in t.sentence()


def test_the_invalid_ballot_sentence():
    t = tally(yes=7, no=0, abstain=0)
    assert t.outcome == "invalid"
    assert t.sentence() == (
        "7 of 15 members voted, fewer than the quorum of 10 (2/3 of 15): the ballot is not valid."
    )
    assert tally(yes=5, no=1, abstain=1).sentence() == (
        "7 of 15 members voted (1 abstained), fewer than the quorum of 10 (2/3 of 15): "
        "the ballot is not valid."
    )


def test_singular_forms():
    t = tally(ThresholdRule.MAJORITY_OF_CAST, base=1, quorum=Fraction(1), yes=1, no=0, abstain=0)
    assert t.sentence() == "1 of 1 member voted; 1 yes of 1 vote cast is more than half: approved."


def test_the_sentence_follows_the_active_language():
    t = tally(yes=9, no=2, abstain=1)
    with translation.override("zh-hans"):
        sentence = t.sentence()
    assert isinstance(sentence, str)
    for number in ("12", "15", "9", "1"):
        assert number in sentence


def test_an_empty_base_is_trivially_quorate_and_passes_nothing():
    for threshold in THRESHOLDS:
        t = tally(threshold, base=0, yes=0, no=0, abstain=0)
        assert t.valid and t.outcome == "rejected"


def test_threshold_choices_are_stored_as_plain_strings():
    t = tally(ThresholdRule.TWO_THIRDS_OF_CAST, yes=8, no=4, abstain=0)
    assert type(t.threshold) is str and t.threshold == "two_thirds_of_cast"
    assert t.as_dict()["quorum"] == "2/3"
    assert tally(quorum=Fraction(4, 6), yes=10, no=0, abstain=0).as_dict()["quorum"] == "2/3"


def test_tally_is_frozen():
    t = tally(yes=9, no=3, abstain=0)
    with pytest.raises(AttributeError):
        t.yes = 10  # type: ignore[misc]
    assert t == Tally(base=15, yes=9, no=3, abstain=0, quorum=TWO_THIRDS, threshold=t.threshold)


def test_count_choices():
    assert count_choices([]) == (0, 0, 0)
    assert count_choices(["yes", "no", "yes", "abstain", "yes"]) == (3, 1, 1)
    assert count_choices(iter(["abstain"] * 4)) == (0, 0, 4)


@pytest.mark.parametrize("bad", ["Yes", "", "present", None, 1])
def test_count_choices_refuses_anything_else(bad):
    with pytest.raises(ValueError):
        count_choices(["yes", bad])


@pytest.mark.parametrize(
    "change",
    [
        {"yes": -1},
        {"no": -1},
        {"abstain": -1},
        {"base": -1, "yes": 0, "no": 0, "abstain": 0},
        {"yes": 10, "no": 5, "abstain": 1},  # 16 took part of 15
        {"threshold": "unanimity"},
        {"threshold": ""},
        {"quorum": Fraction(0)},
        {"quorum": Fraction(-1, 3)},
        {"quorum": Fraction(4, 3)},
        {"quorum": 2},
    ],
)
def test_tally_compute_refuses_impossible_input(change):
    args = {
        "quorum": TWO_THIRDS,
        "threshold": "majority_of_members",
        "base": 15,
        "yes": 9,
        "no": 3,
        "abstain": 0,
        **change,
    }
    with pytest.raises(ValueError):
        tally_compute(**args)


def test_a_float_quorum_is_refused():
    with pytest.raises(TypeError):
        tally_compute(quorum=0.66, threshold="majority_of_cast", base=3, yes=2, no=0, abstain=0)
    with pytest.raises(TypeError):
        quorum_met(0.5, 4, 2)


@pytest.mark.parametrize(
    ("quorum", "base", "participation"),
    [(Fraction(0), 3, 1), (Fraction(3, 2), 3, 1), (TWO_THIRDS, 3, 4), (TWO_THIRDS, 3, -1)],
)
def test_quorum_met_refuses_impossible_input(quorum, base, participation):
    with pytest.raises(ValueError):
        quorum_met(quorum, base, participation)
