"""Grad mode and anomaly mode belong to a thread (as in PyTorch), and every way to switch grad mode."""

from __future__ import annotations

import sys
import threading

import pytest

import tinygrad_edu as tg
from tinygrad_edu import Value, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinygrad_edu.anomaly import anomaly_mode
from tinygrad_edu.graph import away


@pytest.fixture
def tiny_switch_interval():
    """Switch threads every microsecond, so the races these tests look for actually happen."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run_threads(*targets) -> list[BaseException]:
    errors: list[BaseException] = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as error:  # reported to the test, not lost in the thread
                errors.append(error)

        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


# ---------------------------------------------------------------------- threads


def test_no_grad_in_one_thread_does_not_stop_recording_in_another(tiny_switch_interval):
    stop = threading.Event()
    lost = []

    def evaluator():
        while not stop.is_set():
            with no_grad():
                Value(1.0) * 2.0

    def trainer():
        try:
            for _ in range(3000):
                w = Value(0.5)
                y = (w * 3.0 + 1.0).tanh()
                if not y.requires_grad:
                    lost.append("graph")
                    continue
                y.backward()
                if w.grad != pytest.approx(3.0 * (1 - y.data**2)):
                    lost.append(w.grad)
        finally:
            stop.set()

    assert run_threads(evaluator, trainer) == []
    assert lost == []
    assert is_grad_enabled() and away.count == 0


def test_two_threads_stepping_leave_grad_mode_on_everywhere(tiny_switch_interval):
    def stepper():
        params = [Value(1.0) for _ in range(4)]
        for _ in range(2000):
            loss = sum(p * p for p in params)
            for p in params:
                p.grad = None
            loss.backward()
            with no_grad():
                for p in params:
                    p.data -= 0.001 * p.grad
        assert is_grad_enabled()

    assert run_threads(stepper, stepper, stepper) == []
    assert is_grad_enabled() and away.count == 0
    assert (Value(1.0) * 2.0).requires_grad


def test_a_new_thread_starts_with_grad_on_and_anomaly_off():
    seen = {}

    def probe():
        seen["grad"] = is_grad_enabled()
        seen["anomaly"] = anomaly_mode.enabled
        seen["records"] = (Value(1.0) * 2.0).requires_grad

    with no_grad(), tg.detect_anomaly():
        assert run_threads(probe) == []
        assert not is_grad_enabled() and anomaly_mode.enabled
    assert seen == {"grad": True, "anomaly": False, "records": True}
    assert not anomaly_mode.enabled and away.count == 0


def test_anomaly_mode_in_one_thread_does_not_reach_another(tiny_switch_interval):
    stop = threading.Event()
    caught = []

    def watcher():
        with tg.detect_anomaly():
            while not stop.is_set():
                assert anomaly_mode.enabled

    def other():
        try:
            for _ in range(2000):
                x = Value(0.0)
                (x**0.5).backward()  # inf gradient: an error only under anomaly mode
                caught.append(x.grad)
        finally:
            stop.set()

    assert run_threads(watcher, other) == []
    assert len(caught) == 2000 and all(g == float("inf") for g in caught)


# ---------------------------------------------------------------------- the switches


def test_bare_no_grad_decorates():
    @no_grad
    def double(v):
        return v * 2.0

    out = double(Value(1.5))
    assert out.data == 3.0 and not out.requires_grad
    assert double.__name__ == "double" and is_grad_enabled()


def test_no_grad_on_a_generator_applies_at_every_resume():
    @no_grad()
    def gen():
        got = yield is_grad_enabled()
        assert got == "sent"
        yield (Value(1.0) * 2.0).requires_grad
        return "done"

    g = gen()
    assert next(g) is False
    assert is_grad_enabled()  # between resumes, the caller's mode
    assert g.send("sent") is False
    assert is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == "done"


def test_enable_grad_on_a_generator_inside_no_grad():
    @enable_grad()
    def gen():
        for _ in range(2):
            yield (Value(1.0) * 2.0).requires_grad

    with no_grad():
        assert list(gen()) == [True, True]
        assert not is_grad_enabled()


def test_generator_wrapper_passes_throw_and_close_through():
    closed = []

    @no_grad()
    def gen():
        try:
            yield 1
        except KeyError:
            yield is_grad_enabled()
        finally:
            closed.append(is_grad_enabled())

    g = gen()
    next(g)
    assert g.throw(KeyError("k")) is False
    g.close()
    assert closed == [False] and is_grad_enabled()


def test_enable_grad_inside_no_grad_records_and_restores():
    with no_grad():
        with enable_grad():
            assert (Value(1.0) * 2.0).requires_grad
        assert not is_grad_enabled()

    @enable_grad
    def f():
        return is_grad_enabled()

    with no_grad():
        assert f() is True and not is_grad_enabled()


def test_set_grad_enabled_as_function_context_manager_and_decorator():
    try:
        set_grad_enabled(False)
        assert not is_grad_enabled() and not (Value(1.0) * 2.0).requires_grad
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled() and away.count == 0
    with set_grad_enabled(False):
        assert not is_grad_enabled()
        with set_grad_enabled(True):
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()

    @set_grad_enabled(False)
    def f():
        return is_grad_enabled()

    assert is_grad_enabled()  # decorating does not switch
    assert f() is False and is_grad_enabled()
    with pytest.raises(ZeroDivisionError), set_grad_enabled(False):
        _ = 1 / 0
    assert is_grad_enabled() and away.count == 0


# ---------------------------------------------------------------------- anomaly mode's memory


def test_detect_anomaly_keeps_a_bounded_number_of_sites(monkeypatch):
    import tinygrad_edu.anomaly as anomaly

    monkeypatch.setattr(anomaly, "SITES_KEPT", 500, raising=False)
    w = Value(0.5)
    with tg.detect_anomaly():
        for _ in range(1000):  # 3 ops a step, like a tiny training loop
            loss = (w * 2.0 + 1.0).tanh()
            loss.backward()
        assert len(anomaly_mode.sites) <= 500
        newest = max(anomaly_mode.sites)
        assert newest == loss._order and "test_modes.py" in anomaly_mode.sites[newest]
    assert len(anomaly_mode.sites) == 0


# ---------------------------------------------------------------------- one mode object, many functions


MODE_OBJECTS = {
    # name: (make the object, read this thread's setting, the setting inside)
    "no_grad": (lambda: no_grad(), is_grad_enabled, False),
    "enable_grad": (lambda: enable_grad(), is_grad_enabled, True),
    "set_grad_enabled(False)": (lambda: set_grad_enabled(False), is_grad_enabled, False),
    "detect_anomaly": (lambda: tg.detect_anomaly(), lambda: anomaly_mode.enabled, True),
    "keep_graph": (lambda: tg.keep_graph(), tg.is_graph_kept, True),
}


@pytest.mark.parametrize("name", list(MODE_OBJECTS))
def test_one_mode_object_decorates_two_functions(name):
    """Issue 24, item 9: PyTorch lets one `set_grad_enabled(False)` (or any mode object) decorate many functions."""
    make, read, inside = MODE_OBJECTS[name]
    outside = read()
    switch = make()  # (set_grad_enabled switches at once, as a function; decorating puts it back)

    @switch
    def first():
        return read()

    @switch
    def second():
        return read(), first()

    def third():
        return read()

    third = switch(third)
    assert read() == outside  # decorating switches nothing
    assert first() == inside and second() == (inside, inside) and third() == inside
    assert read() == outside and away.count == 0
    with switch:  # still a context manager, and still reusable afterwards
        assert read() == inside and first() == inside
    assert read() == outside and away.count == 0


def test_one_set_grad_enabled_object_decorates_two_functions_as_in_pytorch():
    torch = pytest.importorskip("torch")

    def twice(module, switch):
        @switch
        def f():
            return module.is_grad_enabled()

        @switch
        def g():
            return module.is_grad_enabled()

        return f(), g(), module.is_grad_enabled()

    assert twice(tg, set_grad_enabled(False)) == twice(torch, torch.set_grad_enabled(False)) == (False, False, True)
