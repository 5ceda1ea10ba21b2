"""A detection collects garbage seldom while it runs and leaves the collector as it found it
(the schedule and the demo run it in a long-lived process)."""

from __future__ import annotations

import gc

from grayhound import pipeline


def test_a_detection_collects_seldom_and_leaves_the_collector_as_it_was(
    example_config, monkeypatch
):
    seen = {}

    def detect_findings(config, run_id=None, *, full=False):
        seen["threshold"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()
        return {"full": full}

    monkeypatch.setattr("grayhound.detection.detect_findings", detect_findings)
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert pipeline.detect(example_config, full=True) == {"full": True}
    assert seen["threshold"][0] == pipeline.DETECT_COLLECT_EVERY > threshold[0]
    assert seen["frozen"] > frozen  # what the process held before is not walked again
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)
