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


THRESHOLDS = st.floats(min_value=0.5, max_value=6.0)
CLUSTERED = st.lists(  # many near one price, a few far: outliers and ties at the median
    st.one_of(st.sampled_from([0.8, 0.8, 0.81, 0.79]), st.floats(min_value=0.05, max_value=3.0)),
    min_size=6,
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ratios=st.one_of(RATIOS, CLUSTERED), threshold=THRESHOLDS)
def test_peer_outliers_are_the_members_whose_direct_z_passes_the_threshold(ratios, threshold):
    """peer_outliers computes z only for the members that may pass the threshold (a range
    of the sorted ratios is provably within it): the outliers and their z are still exactly
    those of robust_z over every other member."""
    from detectors.prices import peer_outliers

    members = list(enumerate(ratios))
    found = peer_outliers({("Model", "new"): members}, threshold)
    direct = {}
    for i, r in members:
        z, mid = robust_z(r, [x for j, x in members if j != i])
        if abs(z) > threshold:
            direct[i] = f"median {mid:.0%}, robust z {z:+.1f})"
    assert list(found) == list(direct)
    assert all(found[i].reason.endswith(tail) for i, tail in direct.items())
