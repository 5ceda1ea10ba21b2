"""The O(n log n) leave-one-out robust z-scores equal the direct computation exactly."""

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.prices import _leave_one_out_z, robust_z

RATIOS = st.lists(
    st.floats(min_value=0.05, max_value=3.0).map(lambda r: round(r, 2)), min_size=6, max_size=40
)


@settings(max_examples=200, deadline=None)
@given(ratios=RATIOS)
def test_leave_one_out_matches_robust_z_over_the_other_members(ratios):
    members = list(enumerate(ratios))
    direct = [robust_z(r, [x for j, x in members if j != i]) for i, r in members]
    assert _leave_one_out_z(members) == direct
