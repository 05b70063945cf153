"""Bad input gets a clear error: the package's own type *and* the builtin a user would catch, with a
message that names the op, the shapes and what to do.

Four parts: the error classes themselves and a sweep of the package's source for bare builtins; one
test per kind of mistake (shapes, dtypes, graph misuse, the scalar engine's domains, mixing engines,
gradcheck); a table of bad calls across the public API, each with its exact error class and a
message pattern. Rows that once failed (bugs the sweeps found, since fixed) stay as regressions.
The command line's answer to bad input is in tests/commands/test_cli_bad_input.py.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import (
    ArgumentError,
    ArgumentTypeError,
    DTypeError,
    GradcheckError,
    GraphError,
    IndexOutOfRangeError,
    MathDomainError,
    MixedEngineError,
    ShapeError,
    Tensor,
    TinygradEduError,
    Value,
    errors,
    gradcheck,
    nn,
    ops,
    optim,
)
from tinygrad_edu.errors import DivisionByZeroError
from tinygrad_edu.rng import as_generator
from tinygrad_edu.tensor import _apply
from tinygrad_edu.train import checkpoint, fit, summary
from tinygrad_edu.train import datasets as ds
from tinygrad_edu.train.checkpoint import CheckpointError, load, save
from tinygrad_edu.viz import draw, render

PACKAGE = Path(tg.__file__).parent


def raises(kind, builtin, *words):
    """pytest.raises for `kind`, also checking it is a `builtin` and a TinygradEduError, and names `words`."""
    assert issubclass(kind, builtin) and issubclass(kind, TinygradEduError)
    return pytest.raises(kind, match="(?s)" + "".join(f"(?=.*{re.escape(w)})" for w in words))


# ---------------------------------------------------------------------- the error classes


@pytest.mark.parametrize(
    ("kind", "builtin"),
    [
        (ShapeError, ValueError),
        (MathDomainError, ValueError),
        (DTypeError, TypeError),
        (MixedEngineError, TypeError),
        (GraphError, RuntimeError),
        (GradcheckError, AssertionError),
    ],
)
def test_every_error_is_a_package_error_and_a_builtin(kind, builtin):
    assert issubclass(kind, TinygradEduError) and issubclass(kind, builtin)
    assert kind.__name__ in tg.__all__


def test_every_class_in_errors_py_has_a_builtin_second_base():
    """A user catching ValueError (or TypeError, ...) as with NumPy still catches ours."""
    found = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    kinds = [c for c in found if issubclass(c, TinygradEduError) and c is not TinygradEduError]
    assert len(kinds) >= 10
    plain = {TinygradEduError, Exception, BaseException, object}
    lacking = [c.__name__ for c in kinds if not any(b.__module__ == "builtins" for b in c.__mro__ if b not in plain)]
    assert lacking == []


# ---------------------------------------------------------------------- no bare builtins in the source

BUILTINS = {"ValueError", "TypeError", "RuntimeError"}

# Files still being swept by the engineers who own them (empty when every file is clean).
NOT_YET_SWEPT: set[str] = set()


def builtin_raises(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """`file:line ValueError` for each raise of a bare builtin (called or not) in `path`.

    A raise inside a `try` whose own handler catches that builtin is control flow that never
    reaches the user (`try: ... raise TypeError ... except TypeError: raise UserFileError(...)`).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    caught_here: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            names = set()
            for handler in node.handlers:
                kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                names |= {k.id for k in kinds if isinstance(k, ast.Name)}
            for statement in node.body:
                for inner in ast.walk(statement):
                    if isinstance(inner, ast.Raise) and _raised_name(inner) in names:
                        caught_here.add(id(inner))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and _raised_name(node) in BUILTINS and id(node) not in caught_here:
            found.append(f"{path.relative_to(root)}:{node.lineno} {_raised_name(node)}")
    return sorted(found, key=lambda hit: int(hit.split(":")[1].split()[0]))


def _raised_name(node: ast.Raise) -> str | None:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return exc.id if isinstance(exc, ast.Name) else None


def test_the_walker_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from .errors import ShapeError\n"
        "def f(x):\n    if x:\n        raise ValueError('no')\n    if x > 1:\n        raise ShapeError('ok')\n"
        "    raise TypeError\n"
        "def g(x):\n    try:\n        raise TypeError\n    except (TypeError, ValueError):\n"
        "        raise ShapeError('the real one')\n"
    )
    assert builtin_raises(sample, tmp_path) == ["sample.py:4 ValueError", "sample.py:7 TypeError"]


def test_no_bare_builtin_errors_are_raised():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    found = [
        hit
        for path in files
        if str(path.relative_to(PACKAGE.parent)) not in NOT_YET_SWEPT
        for hit in builtin_raises(path)
    ]
    assert found == [], "raise a tinygrad_edu.errors class (TinygradEduError + the builtin) instead:\n" + "\n".join(
        found
    )


# ---------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("fn", "op"),
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (lambda a, b: a.maximum(b), "maximum"),
    ],
)
def test_mismatched_broadcast_names_op_and_both_shapes(fn, op):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones((4,)))
    with raises(ShapeError, ValueError, op, "(2, 3)", "(4,)"):
        fn(a, b)


def test_matmul_mismatch():
    with raises(ShapeError, ValueError, "matmul", "(2, 3)", "(4, 5)", "transpose"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with raises(ShapeError, ValueError, "matmul", "(3,)", "(2,)"):
        tg.matmul(Tensor(np.ones(3)), Tensor(np.ones(2)))
    with raises(ShapeError, ValueError, "matmul"):
        Tensor(np.ones(3)) @ Tensor(np.array(2.0))  # a 0-d operand


def test_linear_mismatch():
    x, w = Tensor(np.ones((4, 3))), Tensor(np.ones((5, 4)))
    with raises(ShapeError, ValueError, "linear", "(4, 3)", "(5, 4)", "in_features"):
        tg.linear(x, w)
    with raises(ShapeError, ValueError, "linear", "(7,)"):
        tg.linear(Tensor(np.ones((4, 4))), w, Tensor(np.ones(7)))


def test_concatenate_and_stack_mismatch():
    with raises(ShapeError, ValueError, "concatenate", "(2, 3)", "(2, 4)") as info:
        tg.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))])
    assert "broadcast" not in str(info.value)  # it is not a broadcasting problem: do not say so
    with raises(ShapeError, ValueError, "stack", "(2, 3)", "(3, 2)"):
        tg.stack([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))])


def test_reshape_to_a_wrong_size():
    with raises(ShapeError, ValueError, "reshape", "(2, 3)") as info:
        Tensor(np.ones((2, 3))).reshape(4, 2)
    assert "broadcast" not in str(info.value)


# ---------------------------------------------------------------------- dtypes


def test_integer_tensor_cannot_require_grad():
    with raises(DTypeError, TypeError, "int64", "requires_grad", "float"):
        Tensor(np.array([1, 2], dtype=np.int64), requires_grad=True)
    with raises(DTypeError, TypeError, "int32"):
        Tensor.from_numpy(np.array([1, 2], dtype=np.int32), requires_grad=True)
    with raises(DTypeError, TypeError, "bool"):
        Tensor(np.array([True])).requires_grad_()


def test_cross_entropy_rejects_float_and_out_of_range_targets():
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    with raises(DTypeError, TypeError, "cross_entropy", "integer", "float64"):
        tg.cross_entropy(logits, np.array([0.0, 1.0]))
    with raises(DTypeError, TypeError, "cross_entropy", "float32"):
        tg.cross_entropy(logits, Tensor([0, 1]))  # a list becomes float32: say dtype=np.int64
    with raises(MathDomainError, ValueError, "cross_entropy", "[0, 3)", "3"):
        tg.cross_entropy(logits, np.array([0, 3]))
    with raises(MathDomainError, ValueError, "cross_entropy", "-1"):
        tg.cross_entropy(logits, np.array([-1, 0]))
    with raises(ShapeError, ValueError, "cross_entropy", "(2, 3)", "(3,)"):
        tg.cross_entropy(logits, np.array([0, 1, 2]))


# ---------------------------------------------------------------------- graph misuse


def test_backward_on_non_scalar_without_gradient():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with raises(GraphError, RuntimeError, "backward", "(2, 3)", "gradient"):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with raises(ShapeError, ValueError, "backward", "(3, 2)", "(2, 3)"):
        y.backward(gradient=np.ones((3, 2)))


def test_backward_through_a_freed_graph_names_the_op():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.sigmoid().sum()
    y.backward()
    with raises(GraphError, RuntimeError, "Sum", "retain_graph=True"):
        y.backward()
    # A second root sharing the freed part of the graph cannot go through it either.
    h = x.tanh()
    (h * 2).sum().backward()
    with raises(GraphError, RuntimeError, "Tanh", "freed"):
        (h * 3).sum().backward()


def test_backward_on_something_that_needs_no_grad():
    with raises(GraphError, RuntimeError, "backward", "requires_grad"):
        (Tensor(np.ones(1)) * 2).backward()
    with raises(GraphError, RuntimeError, "backward"):
        (Value(1.0, requires_grad=False) * 2).backward()


# ---------------------------------------------------------------------- the scalar engine's domains


@pytest.mark.parametrize("x", [0.0, -1.5])
def test_log_of_non_positive_value(x):
    with raises(MathDomainError, ValueError, "log", str(x), "positive"):
        Value(x).log()


def test_value_pow_value_with_negative_base_is_a_domain_error():
    """Documented: d(a^b)/db = a^b ln a has no real value for a < 0, so this is an error, never a number."""
    with raises(MathDomainError, ValueError, "Value ** Value", "negative", "-2.0"):
        Value(-2.0) ** Value(2.0)
    with raises(MathDomainError, ValueError, "negative"):
        (-2) ** Value(3.0)  # the reflected form takes the same path


def test_negative_base_to_a_non_integer_number_power():
    with raises(MathDomainError, ValueError, "0.5", "negative", "-4.0"):
        Value(-4.0) ** 0.5
    assert (Value(-2.0) ** 3).data == -8.0  # an integer power of a negative base is fine


def test_zero_to_a_negative_power():
    with raises(MathDomainError, ValueError, "-1"):
        Value(0.0) ** -1
    with raises(MathDomainError, ValueError, "0"):
        1 / Value(0.0)


# ---------------------------------------------------------------------- mixing engines


@pytest.mark.parametrize(
    ("fn", "names"),
    [
        (lambda v, t: v + t, "Value + Tensor"),
        (lambda v, t: t + v, "Tensor + Value"),
        (lambda v, t: v * t, "Value * Tensor"),
        (lambda v, t: t * v, "Tensor * Value"),
        (lambda v, t: v - t, "Value - Tensor"),  # once named no op at all
        (lambda v, t: t - v, "Tensor - Value"),
        (lambda v, t: v / t, "Value / Tensor"),
        (lambda v, t: t / v, "Tensor / Value"),
        (lambda v, t: v**t, "Value ** Tensor"),
        (lambda v, t: t**v, "Tensor ** Value"),
    ],
)
def test_value_and_tensor_do_not_mix(fn, names):
    with raises(MixedEngineError, TypeError, names, "do not mix", "item()"):
        fn(Value(2.0), Tensor(np.ones(3), requires_grad=True))


def test_value_and_tensor_constructors_refuse_each_other():
    with raises(MixedEngineError, TypeError, "Value(Tensor)", "item()"):
        Value(Tensor(np.ones(1)))
    with raises(MixedEngineError, TypeError, "Tensor(Value)", "v.data"):
        Tensor(Value(1.0))
    with raises(MixedEngineError, TypeError, "weighted_sum"):
        tg.weighted_sum([Value(1.0)], [Tensor(np.ones(1))])


def test_weighted_sum_length_mismatch():
    with raises(ShapeError, ValueError, "weighted_sum", "2 weights", "1 inputs"):
        tg.weighted_sum([Value(1.0), Value(2.0)], [3.0])


# ---------------------------------------------------------------------- gradcheck catches a wrong derivative


class WrongSigmoid(ops.Sigmoid):
    """sigmoid with the classic learner's slip: s instead of s (1 - s)."""

    @staticmethod
    def backward(out, g, needs):
        return (g * out,)


def test_gradcheck_names_the_input_and_element_of_a_wrong_gradient():
    x = Tensor(np.array([[0.5, -1.0], [2.0, 0.0]]), name="x")
    w = Tensor(np.array([1.0, 2.0]))
    # w's gradient is right (it does not go through the wrong op), x's is wrong from its first element.
    with raises(GradcheckError, AssertionError, "input 1", "(x)", "element (0, 0)", "finite differences"):
        tg.gradcheck(lambda w, x: _apply(WrongSigmoid, (x,)) * w, [w, x])
    # The same function with the real op passes: the failure above is the wrong backward, not the check.
    assert tg.gradcheck(lambda w, x: x.sigmoid() * w, [w, x])


def test_gradcheck_reports_the_analytic_and_numeric_values():
    """At x = 0: the wrong rule gives s = 0.5, the right one s (1 - s) = 0.25, so the ratio is 2."""
    x = Tensor(np.array([0.0]))
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(lambda x: _apply(WrongSigmoid, (x,)), [x])
    found = re.search(r"autodiff gives (\S+) but finite differences give (\S+) ", str(info.value))
    assert found is not None
    analytic, numeric = float(found[1]), float(found[2])
    assert analytic / numeric == pytest.approx(2.0, rel=1e-6)


def test_gradcheck_on_values_names_the_label():
    def wrong_square(a):
        out = a * a
        out._locals = (a.data, a.data / 2)  # a deliberately wrong local derivative on one edge
        return out

    with raises(GradcheckError, AssertionError, "input 0", "(a)"):
        tg.gradcheck(wrong_square, [Value(3.0, name="a")])


def test_gradcheck_refuses_mixed_inputs():
    with raises(ArgumentTypeError, TypeError, "gradcheck", "all Values or all Tensors"):
        tg.gradcheck(lambda a, b: a, [Value(1.0), Tensor(np.ones(1))])


# ---------------------------------------------------------------------- a table of bad calls


def ones(*shape):
    return Tensor(np.ones(shape))


def grad_ones(*shape):
    return Tensor(np.ones(shape), requires_grad=True)


def fit_once(epochs):
    model = nn.Linear(2, 1, generator=0)
    return fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), np.ones((4, 2)), np.ones((4, 1)), epochs)


NOT_BROADCAST = "^(?!.*broadcast)"  # shape errors that are not about broadcasting must not say so

# (id, call, the exact error class, a pattern its message must match)
CASES = [
    ("Tensor(str)", lambda: Tensor("abc"), DTypeError, "Tensor"),
    ("Tensor(dict)", lambda: Tensor({"a": 1}), DTypeError, "Tensor"),
    ("Tensor(ragged)", lambda: Tensor([[1, 2], [3]]), DTypeError, "Tensor"),
    ("Tensor + str", lambda: ones(2) + "a", ArgumentTypeError, r"Tensor \+ str"),
    ("matmul 0-d", lambda: tg.matmul(Tensor(1.0), ones(2)), ShapeError, "at least one axis"),
    ("permute repeat", lambda: ones(2, 3).permute(0, 0), ShapeError, NOT_BROADCAST),
    ("sum axis", lambda: ones(2, 3).sum(axis=5), ShapeError, NOT_BROADCAST),
    ("softmax axis", lambda: ones(2, 3).softmax(axis=3), ShapeError, NOT_BROADCAST),
    ("index out of range", lambda: ones(3)[5], IndexOutOfRangeError, "out of bounds"),
    ("max of empty", lambda: ones(0).max(), ShapeError, "empty"),
    ("backward non-scalar", lambda: (grad_ones(3) * 2).backward(), GraphError, "sum"),
    ("backward of a leaf without grad", lambda: ones(1).backward(), GraphError, "requires_grad"),
    ("concatenate nothing", lambda: tg.concatenate([]), ArgumentError, "at least one"),
    ("stack shapes", lambda: tg.stack([ones(2), ones(3)]), ShapeError, "same shape"),
    ("clip without bounds", lambda: ones(2).clip(), ArgumentError, "min, max"),
    ("Value(str)", lambda: Value("x"), ArgumentTypeError, "Value"),
    ("Value(None)", lambda: Value(None), ArgumentTypeError, "Value"),
    ("Value(list)", lambda: Value([1.0]), ArgumentTypeError, "Value"),
    ("Value + str", lambda: Value(1.0) + "a", ArgumentTypeError, r"Value \+ str"),
    ("Value / 0", lambda: Value(1.0) / 0, DivisionByZeroError, "Value / 0"),
    ("weighted_sum lengths", lambda: tg.weighted_sum([Value(1.0)], [1.0, 2.0]), ShapeError, "one weight per input"),
    ("Linear engine", lambda: nn.Linear(2, 3, engine="gpu"), ArgumentError, "'tensor' or 'value'"),
    ("Linear zero features", lambda: nn.Linear(0, 3), ArgumentError, "positive int"),
    ("Linear float features", lambda: nn.Linear(2.5, 3), ArgumentError, "positive int"),
    ("Linear wrong input", lambda: nn.Linear(2, 3)(ones(4, 5)), ShapeError, "in_features"),
    ("Linear value wrong input", lambda: nn.Linear(2, 3, engine="value")([1.0, 2.0, 3.0]), ShapeError, "expected 2"),
    (
        "Sequential mixed engines",
        lambda: nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1, engine="value"))(ones(1, 2)),
        MixedEngineError,
        "engine",
    ),
    ("MSELoss shapes", lambda: nn.MSELoss()(ones(2, 3), ones(2, 4)), ShapeError, "target"),
    ("MSELoss reduction", lambda: nn.MSELoss(reduction="avg"), ArgumentError, "reduction"),
    ("SGD negative lr", lambda: optim.SGD(nn.Linear(2, 3).parameters(), lr=-1.0), MathDomainError, "lr"),
    ("SGD nan lr", lambda: optim.SGD(nn.Linear(2, 3).parameters(), lr=float("nan")), MathDomainError, "lr"),
    ("SGD str lr", lambda: optim.SGD(nn.Linear(2, 3).parameters(), lr="0.1"), DTypeError, "SGD"),
    ("SGD no parameters", lambda: optim.SGD([], lr=0.1), ArgumentError, "empty"),
    ("SGD ndarray parameter", lambda: optim.SGD([np.ones(3)], lr=0.1), ArgumentTypeError, "model.parameters"),
    ("Adam betas", lambda: optim.Adam(nn.Linear(2, 3).parameters(), betas=(1.5, 0.9)), MathDomainError, "betas"),
    ("one_hot negative", lambda: ds.one_hot(np.array([-1, 2])), ArgumentError, "one_hot"),
    ("one_hot out of range", lambda: ds.one_hot(np.array([0, 5]), 3), ArgumentError, r"\[0, 3\)"),
    ("one_hot 2-D", lambda: ds.one_hot(np.zeros((2, 2), dtype=int), 3), ShapeError, r"1-D.*\(2, 2\)"),
    # was a ShapeError, though the shape was fine
    ("one_hot floats", lambda: ds.one_hot(np.array([0.5, 2])), ArgumentError, "integer"),
    ("make_moons zero samples", lambda: ds.make_moons(0), ArgumentError, "n_samples"),
    ("make_moons one sample", lambda: ds.make_moons(1), ArgumentError, "n_samples >= 2"),
    ("make_moons negative noise", lambda: ds.make_moons(10, noise=-1), ArgumentError, "make_moons"),
    # these two leaked Python's own TypeError from deep inside (`'<' not supported`, `cannot be interpreted`)
    ("make_moons str", lambda: ds.make_moons("a"), ArgumentTypeError, "make_moons: n_samples must be a whole"),
    ("make_moons float", lambda: ds.make_moons(10.5), ArgumentTypeError, "make_moons: n_samples must be a whole"),
    # NumPy's raw "expected non-negative integer" before
    ("negative seed", lambda: as_generator(-1), ArgumentError, "seed must be a whole number >= 0"),
    ("seed type", lambda: as_generator("seed"), ArgumentTypeError, "int seed"),
    ("gradcheck nothing", lambda: gradcheck(lambda: None, []), ArgumentError, "gradcheck: give at least one"),
    ("draw a float", lambda: draw(3.0), ArgumentTypeError, "draw: expected a Value or a Tensor"),
    (
        "draw highlight str",
        lambda: draw(nn.Linear(1, 1).weight.sum(), highlight="x"),
        ArgumentTypeError,
        "draw: highlight",
    ),
    (
        "render nan timeout",
        lambda: render(nn.Linear(1, 1).weight.sum(), "x.svg", timeout=float("nan")),
        ArgumentError,
        "render: timeout=nan",
    ),
    ("fit epochs float", lambda: fit_once(epochs=1.5), ArgumentTypeError, "fit: epochs must be a whole number"),
    ("summary str", lambda: summary(nn.Linear(2, 1), "x", print_fn=None), ArgumentTypeError, "summary: input_shape"),
    ("load_state_dict missing keys", lambda: nn.Linear(2, 3).load_state_dict({}), ShapeError, "missing"),
    ("save a non-model", lambda: checkpoint.save(42, "unused.npz"), ArgumentTypeError, "save: expected a model"),
    ("load a folder", lambda: load(nn.Linear(2, 3), "/"), CheckpointError, "not a readable checkpoint"),
]


@pytest.mark.parametrize(("name", "call", "kind", "pattern"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(name, call, kind, pattern):
    with pytest.raises(kind, match=pattern) as info:
        call()
    assert isinstance(info.value, TinygradEduError)
    assert any(b.__module__ == "builtins" and b is not Exception for b in type(info.value).__mro__[1:])


# Missing files stay the builtin FileNotFoundError (what `open` raises), naming the path, not a temp file.
@pytest.mark.parametrize(
    "call",
    [
        lambda: load(nn.Linear(2, 3), "/nonexistent/model.npz"),
        lambda: save(nn.Linear(2, 3), "/nonexistent/model.npz"),
    ],
    ids=["load", "save"],
)
def test_a_missing_file_or_folder_is_a_file_not_found_error(call):
    with pytest.raises(FileNotFoundError, match=r"model\.npz") as info:
        call()
    assert ".tmp" not in str(info.value)


# ---------------------------------------------------------------------- once defects, now regressions


def test_value_exp_overflow_is_a_clear_error():
    """math.exp(1000) overflows: the error names the op and the limit (a Tensor follows NumPy: inf)."""
    with raises(MathDomainError, ValueError, "exp", "e^1000", "709.78"):
        Value(1000.0).exp()
    assert Value(709.0).exp().data == pytest.approx(np.exp(709.0), rel=1e-12)


@given(
    st.sampled_from(["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", ">i2", ">i8", ">u4"]),
    st.lists(st.integers(-300, 300), max_size=12),
    st.integers(1, 260),
)
def test_class_indices_refuses_exactly_the_labels_outside_the_classes(dtype: str, labels: list[int], classes: int):
    """One pass over the labels as unsigned numbers must agree with the definition, 0 <= label < classes,
    for every integer dtype and byte order (a negative label reads as a huge unsigned one)."""
    from tinygrad_edu.tensor_checks import class_indices

    array = np.array(labels, dtype=np.int64).astype(dtype)  # (unsigned dtypes wrap the negatives, as NumPy does)
    values = array.astype(np.int64)
    if ((values >= 0) & (values < classes)).all():
        class_indices(array, classes)
    else:
        with pytest.raises(MathDomainError, match=f"class indices must lie in \\[0, {classes}\\)"):
            class_indices(array, classes)
