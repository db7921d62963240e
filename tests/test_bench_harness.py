"""Harness mechanics with a fake runner and injected durations: no real timing is asserted."""
import numpy as np
import pytest

from bench_fakes import MS, candidate, fake_timer
from lsnet.bench.harness import Harness, Settings
from lsnet.bench.stats import summarize
from lsnet.errors import UnknownOptionError


def collapse(calls: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Consecutive calls of one target at one batch as a single entry."""
    return [c for i, c in enumerate(calls) if i == 0 or calls[i - 1] != c]


def test_summary_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    durations = rng.integers(1 * MS, 50 * MS, size=257).tolist()
    s = summarize(durations, batch=4)
    ms = np.asarray(durations) / 1e6
    assert s.p50 == pytest.approx(np.percentile(ms, 50))
    assert s.p90 == pytest.approx(np.percentile(ms, 90))
    assert s.p99 == pytest.approx(np.percentile(ms, 99))
    assert (s.mean, s.std, s.min) == pytest.approx((ms.mean(), ms.std(), ms.min()))
    assert s.throughput_ips == pytest.approx(4 / (ms.mean() / 1e3))
    assert s.iterations == 257


def test_summary_rejects_empty_and_bad_batch() -> None:
    with pytest.raises(ValueError):
        summarize([], 1)
    with pytest.raises(ValueError):
        summarize([1], 0)


def test_warmup_calls_are_not_recorded() -> None:
    calls: list = []
    slow_then_fast = lambda _b, i: 1000 * MS if i <= 5 else 2 * MS  # noqa: E731
    c = candidate("a", slow_then_fast, calls)
    harness = Harness(Settings(warmup_s=0.0, warmup_iters=5, min_time_s=0.02, rounds=1), fake_timer)
    (m,) = harness.run([c], [1])
    assert m.stats.min == m.stats.p99 == 2.0
    assert len(calls) == 5 + m.stats.iterations


def test_warmup_runs_until_its_time_is_spent() -> None:
    calls: list = []
    c = candidate("a", 10 * MS, calls)
    (m,) = Harness(Settings(warmup_s=0.1, warmup_iters=1, min_time_s=0.01, rounds=1), fake_timer).run([c], [1])
    assert len(calls) - m.stats.iterations == 10


def test_timed_calls_cover_min_time_split_over_rounds() -> None:
    calls: list = []
    c = candidate("a", 10 * MS, calls)
    (m,) = Harness(Settings(warmup_s=0, warmup_iters=0, min_time_s=0.1, rounds=2), fake_timer).run([c], [1])
    assert m.stats.iterations == 10  # 2 rounds x 50 ms budget / 10 ms
    assert sum(m.durations_ns) >= 0.1e9


def test_a_call_longer_than_the_budget_still_counts_once_per_round() -> None:
    calls: list = []
    c = candidate("a", 500 * MS, calls)
    (m,) = Harness(Settings(warmup_s=0, warmup_iters=0, min_time_s=0.01, rounds=3), fake_timer).run([c], [1])
    assert m.stats.iterations == 3


def test_rounds_interleave_targets_after_each_is_warmed_up() -> None:
    calls: list = []
    targets = [candidate(n, 10 * MS, calls) for n in ("a", "b", "c")]
    Harness(Settings(warmup_s=0, warmup_iters=2, min_time_s=0.06, rounds=3), fake_timer).run(targets, [1, 2])
    expected_one_batch = lambda b: [(n, b) for n in "abc"] + [(n, b) for _ in range(3) for n in "abc"]  # noqa: E731
    assert collapse(calls) == expected_one_batch(1) + expected_one_batch(2)


def test_ratios_are_relative_to_the_first_target_at_the_same_batch() -> None:
    calls: list = []
    a = candidate("a", lambda b, _i: 10 * MS * b, calls)
    b = candidate("b", lambda b, _i: 30 * MS * b, calls)
    ms = Harness(Settings(warmup_s=0, warmup_iters=0, min_time_s=0.2, rounds=2), fake_timer).run([a, b], [1, 4])
    got = {(m.candidate.label, m.batch): m.ratio_to_first for m in ms}
    assert got == {("a", 1): 1.0, ("b", 1): pytest.approx(3.0), ("a", 4): 1.0, ("b", 4): pytest.approx(3.0)}
    assert {(m.candidate.label, m.batch): m.stats.throughput_ips for m in ms}[("a", 4)] == pytest.approx(100.0)


def test_out_of_memory_halves_the_batch_and_skips_repeats() -> None:
    calls: list = []
    c = candidate("a", 1 * MS, calls, oom_above=4)
    harness = Harness(Settings(warmup_s=0, warmup_iters=1, min_time_s=0.005, rounds=1), fake_timer)
    ms = harness.run([c], [2, 16, 32])
    assert [(m.batch, m.requested_batch) for m in ms] == [(2, 2), (4, 16)]
    assert [(s.label, s.batch) for s in harness.skipped] == [("a", 32)]
    assert "out of memory" in harness.skipped[0].reason


def test_out_of_memory_at_batch_one_is_skipped_not_fatal() -> None:
    calls: list = []
    ok = candidate("ok", 1 * MS, calls)
    never = candidate("never", 1 * MS, calls, oom_above=0)
    harness = Harness(Settings(warmup_s=0, warmup_iters=1, min_time_s=0.005, rounds=1), fake_timer)
    ms = harness.run([ok, never], [1])
    assert [m.candidate.label for m in ms] == ["ok"]
    assert harness.skipped[0].reason == "out of memory even at batch 1"


def test_other_errors_propagate() -> None:
    calls: list = []

    def broken(_b: int, _i: int) -> int:
        raise RuntimeError("kernel crashed")

    with pytest.raises(RuntimeError, match="kernel crashed"):
        Harness(Settings(warmup_s=0, warmup_iters=1, min_time_s=0.01, rounds=1), fake_timer).run([candidate("a", broken, calls)], [1])


def test_fixed_batch_artifact_skips_other_batches() -> None:
    calls: list = []
    c = candidate("fixed", 1 * MS, calls, fixed_batch=1)
    harness = Harness(Settings(warmup_s=0, warmup_iters=1, min_time_s=0.005, rounds=1), fake_timer)
    ms = harness.run([c], [1, 8])
    assert [m.batch for m in ms] == [1]
    assert "batch 1 only" in harness.skipped[0].reason


def test_progress_steps_match_total() -> None:
    calls: list = []
    steps: list[str] = []
    harness = Harness(Settings(warmup_s=0, warmup_iters=1, min_time_s=0.005, rounds=2), fake_timer, steps.append)
    harness.run([candidate("a", MS, calls), candidate("b", MS, calls)], [1, 2])
    assert len(steps) == harness.total_steps(2, 2)


@pytest.mark.parametrize("bad", [dict(min_time_s=0), dict(rounds=0), dict(warmup_s=-1)])
def test_bad_settings_are_user_errors(bad: dict) -> None:
    with pytest.raises(UnknownOptionError):
        Settings(**bad)
