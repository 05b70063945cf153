"""Memory layouts in a compiled tensor step: what the replay computes never depends on a layout the eager step
did not have. A product `a @ W.T` copied column by column (layouts.py) only where BLAS gives the same bits,
a value the eager step laid out column by column is not put into a row-major buffer, and an argument's
layout is part of the signature. Every test compares with an eager twin bit for bit (`tobytes`)."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compile_replay import training_step

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.compile import layouts


def _twins(sizes: tuple[int, ...], seed: int = 0) -> tuple[Any, Any]:
    """An eager and a compiled MLP (tanh between Linears, mean squared output, SGD), same weights."""

    def build() -> Any:
        layers: list[Any] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            layers += [nn.Linear(n_in, n_out, generator=seed + i), nn.Tanh()]
        model = nn.Sequential(*layers[:-1])
        return model, training_step(optim.SGD(model.parameters(), lr=0.05), lambda x: (model(x) ** 2).mean())

    (model_e, step_e), (model_c, step_c) = build(), build()
    return (model_e, step_e), (model_c, tg.compile(step_c, check=False))  # (no check: nothing hides a difference)


def _bits(model: Any, loss: Any) -> list[bytes]:
    return [loss.data.tobytes()] + [b for p in model.parameters() for b in (p.data.tobytes(), p.grad.tobytes())]


def _run(sizes: tuple[int, ...], batch: int, calls: int = 4, order: str = "C") -> tuple[bool, str]:
    """Train the twins on the same batches: (every number bit-identical after every call, the step's code)."""
    (model_e, step_e), (model_c, step_c) = _twins(sizes)
    rng = np.random.default_rng(1)
    same = True
    for _ in range(calls):
        x = np.asarray(rng.standard_normal((batch, sizes[0])), np.float32, order=order)
        loss_e, loss_c = step_e(Tensor(x)), step_c(x)
        same = same and _bits(model_e, loss_e) == _bits(model_c, loss_c)
    return same, step_c.source


@pytest.fixture
def copy_wherever_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the column-major copy wherever the bits agree, fast or not: the tests see the copy on every shape."""
    layouts.same_bits.cache_clear()
    monkeypatch.setattr(layouts, "faster", lambda m, k, n, dtype: True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batch=st.sampled_from([2, 3, 8, 16, 32, 64]),
    hidden=st.sampled_from([2, 5, 10, 64, 128]),
    width=st.sampled_from([3, 16, 64]),
)
def test_a_product_copied_column_by_column_is_bit_identical_to_eager(
    copy_wherever_same: None, batch: int, hidden: int, width: int
) -> None:
    same, source = _run((width, hidden, 4), batch)
    assert same, source


def test_the_copy_is_written_where_the_bits_agree_and_left_out_where_not(copy_wherever_same: None) -> None:
    m, k, n = 32, 64, 128  # two products: 32x64 @ 64x128, then 32x128 @ 128x10
    _, source = _run((k, n, 10), m, calls=2)
    expect_first, expect_second = layouts.same_bits(m, k, n, "<f4"), layouts.same_bits(m, n, 10, "<f4")
    assert bool(re.search(r"np\.copyto\((x\w*)_cols, \1\)", source)) == expect_first, source
    assert ("np.copyto(tanh_cols, tanh)" in source) == expect_second, source


def test_a_copy_where_the_bits_differ_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The twins' comparison can fail: a copy forced where BLAS rounds otherwise gives other numbers."""
    shapes = [(m, k, n) for m in (16, 32, 64) for k, n in ((64, 10), (128, 64), (64, 128))]
    differing = next((s for s in shapes if not layouts.same_bits(*s, "<f4")), None)
    if differing is None:
        pytest.skip("this BLAS gives the same bits in both layouts for every shape tried")
    m, k, n = differing
    monkeypatch.setattr(layouts, "same_bits", lambda *_: True)
    monkeypatch.setattr(layouts, "faster", lambda *_: True)
    same, source = _run((k, n), m, calls=2)
    assert re.search(r"np\.copyto\((x\w*)_cols, \1\)", source)
    assert not same


def test_same_bits_and_faster_are_what_their_names_say() -> None:
    rng = np.random.default_rng(5)
    for m, k, n in ((32, 64, 128), (32, 64, 10), (5, 4, 3)):
        a, w = rng.random((m, k), dtype=np.float32), rng.random((n, k), dtype=np.float32)
        agree = (a @ w.T).tobytes() == (np.asfortranarray(a) @ w.T).tobytes()
        assert not agree or layouts.same_bits(m, k, n, "<f4")  # (equal on these numbers: no difference found)
        assert layouts.faster(m, k, n, "<f4") in (True, False)
    assert not layouts.faster(2, 2, 2, "<f4")  # (a copy costs more than such a product)


def test_a_product_of_an_array_with_its_own_transpose_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """`x @ x.T` goes to BLAS's syrk (NumPy sees the same memory twice), which a copy of x would not reach:
    never copied, even where a product of two arrays of those shapes would be."""
    monkeypatch.setattr(layouts, "same_bits", lambda *_: True)
    monkeypatch.setattr(layouts, "faster", lambda *_: True)
    rng = np.random.default_rng(3)
    w_e, w_c = (Tensor(np.full((32,), 0.5, np.float32), requires_grad=True) for _ in range(2))

    def fn(w: Tensor) -> Any:
        return lambda x: ((x @ x.T).sum(axis=1) * w).sum()

    step = tg.compile(fn(w_c), check=False)
    for _ in range(3):
        x = rng.standard_normal((32, 64)).astype(np.float32)
        assert step(x).data.tobytes() == fn(w_e)(Tensor(x)).data.tobytes()
    assert "np.copyto" not in step.source


# ---------------------------------------------------------------------- inputs in other layouts


@pytest.mark.parametrize("order", ["F", "strided"])
def test_an_input_in_another_layout_replays_as_eager(order: str) -> None:
    """A value eager laid out column by column (an op on a Fortran-order input) stays so: a row-major buffer
    would change how the sum over axis 0 adds it up (and round otherwise)."""
    rng = np.random.default_rng(0)
    w_e, w_c = (Tensor(rng.standard_normal(64).astype(np.float32), requires_grad=True) for _ in range(2))
    w_c.data = w_e.data.copy()

    def fn(w: Tensor) -> Any:
        return lambda x: ((x * 1.5).relu().sum(axis=0) * w).sum()

    step = tg.compile(fn(w_c), check=False)
    for _ in range(4):
        x = rng.standard_normal((256, 128) if order == "strided" else (256, 64)).astype(np.float32)
        x = np.asfortranarray(x) if order == "F" else x[:, ::2]
        assert step(x).data.tobytes() == fn(w_e)(Tensor(x)).data.tobytes()


def test_an_input_in_another_layout_traces_again() -> None:
    (model_e, step_e), (model_c, step_c) = _twins((16, 32, 4))
    rng = np.random.default_rng(2)
    for order in ("C", "C", "F", "F", "C"):
        x = np.asarray(rng.standard_normal((32, 16)), np.float32, order=order)
        assert _bits(model_e, step_e(Tensor(x))) == _bits(model_c, step_c(x))
    assert step_c.traces == 2


def _sum_step(w: Tensor, make: Any = None) -> Any:
    """A step that sums over axis 0 what an elementwise op makes: the order of that sum follows the layout."""
    if make is None:
        return lambda x: ((x * 1.5).relu().sum(axis=0) * w).sum()
    return lambda s: ((make * s).relu().sum(axis=0) * w).sum()


def test_views_of_arrays_in_other_layouts_trace_again() -> None:
    """Two views `x[:, ::2]` of a row-major and of a column-major array are both neither, with other strides."""
    w_e, w_c = (Tensor(np.linspace(-1, 1, 64, dtype=np.float32), requires_grad=True) for _ in range(2))
    step, rng = tg.compile(_sum_step(w_c), check=False), np.random.default_rng(0)
    for order in "CCFFFC":
        x = np.asarray(rng.standard_normal((256, 128)), np.float32, order=order)[:, ::2]
        assert _sum_step(w_e)(Tensor(x)).data.tobytes() == step(x).data.tobytes(), order
    assert step.traces == 2


def test_a_tensor_read_afresh_in_another_layout_traces_again() -> None:
    w_e, w_c = (Tensor(np.linspace(-1, 1, 64, dtype=np.float32), requires_grad=True) for _ in range(2))
    f_e, f_c = (Tensor(np.zeros((256, 64), np.float32)) for _ in range(2))
    step, rng, s = tg.compile(_sum_step(w_c, f_c), check=False), np.random.default_rng(0), np.float32(1.5)
    for order in "CCFFC":
        f_e.data = f_c.data = np.asarray(rng.standard_normal((256, 64)), np.float32, order=order)
        assert _sum_step(w_e, f_e)(Tensor(np.array(s))).data.tobytes() == step(np.array(s)).data.tobytes(), order
    assert step.traces == 2


def test_two_arguments_are_never_both_operands_of_a_copied_product(monkeypatch: pytest.MonkeyPatch) -> None:
    """Traced as fn(x, y), called as fn(x, x): `x @ x.T` then goes to syrk in eager, so a copy of x (gemm) could
    round otherwise. A product of two arguments is left as it is, even where it would be copied."""
    monkeypatch.setattr(layouts, "same_bits", lambda *_: True)
    monkeypatch.setattr(layouts, "faster", lambda *_: True)
    w_e, w_c = (Tensor(np.linspace(-1, 1, 12), requires_grad=True) for _ in range(2))

    def fn(w: Tensor) -> Any:
        return lambda a, b: ((a @ b.T).sum(axis=1) * w).sum()

    step, rng = tg.compile(fn(w_c), check=False), np.random.default_rng(0)
    for i in range(4):
        x, y = Tensor(rng.standard_normal((12, 8))), Tensor(rng.standard_normal((12, 8)))
        args = (x, y) if i < 2 else (x, x)
        assert fn(w_e)(*args).data.tobytes() == step(*args).data.tobytes(), i
    assert "np.copyto" not in step.source


def test_two_parameters_on_one_array_are_never_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tied weights (`p2.data = p1.data`): `p1 @ p2.T` is one memory seen twice, which NumPy gives to syrk."""
    monkeypatch.setattr(layouts, "same_bits", lambda *_: True)
    monkeypatch.setattr(layouts, "faster", lambda *_: True)

    def build(seed: int) -> Any:
        rng = np.random.default_rng(seed)
        p1, p2 = Tensor(rng.standard_normal((12, 8)), requires_grad=True), Tensor(np.zeros((12, 8)), requires_grad=True)
        p2.data = p1.data
        w = Tensor(np.linspace(-1, 1, 12))
        return lambda s: ((p1 @ p2.T).sum(axis=1) * w).sum() * s

    for seed in range(6):
        eager, step = build(seed), tg.compile(build(seed), check=False)
        for _ in range(2):
            assert eager(Tensor(np.array(1.0))).data.tobytes() == step(np.array(1.0)).data.tobytes(), seed
        assert "np.copyto" not in step.source
