"""compare_gradients: no false alarm on a correct backprop, and the right diagnosis for broken ones."""

import itertools
import json
import sys

import numpy as np
import pytest
from locations import EXAMPLES

from tinygrad_edu import Tensor, linear, nn
from tinygrad_edu.check import article, compare_gradients, reference
from tinygrad_edu.check.compare import from_step, loss_function

sys.path.insert(0, str(EXAMPLES / "article_code"))
import level1
import level2


def loss_fn(output, target):
    return nn.functional.mse_loss(output, list(target), reduction="half_sum")


def model_for(sizes, engine="tensor", state=None, seed=0):
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out, dtype=np.float64, engine=engine, generator=seed), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    if state is not None:
        model.load_state_dict(state)
    return model


def compare(manual, sizes=(2, 2, 2), engine="tensor", x=article.INPUTS, t=article.TARGETS):
    state = article.state_dict() if tuple(sizes) == (2, 2, 2) else None
    return compare_gradients(model_for(sizes, engine, state, seed=5), loss_fn, list(x), list(t), manual)


def broken(change):
    """The reference delta rule with one deliberate change applied to its result or its internals."""

    def manual(state, x, t):
        grads = reference.gradients(state, x, t)
        change(grads, state, x, t)
        return grads

    return manual


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_no_false_alarm_on_the_reference(engine):
    report = compare(reference.gradients, engine=engine)
    assert report.ok and all(p.ok and not p.diagnosis for p in report.params)
    assert report.findings[0] == "all 4 parameters match autodiff"
    assert "with 2 outputs" in report.findings[1]  # why ½Σ and the mean hide each other on the article's net
    assert max(p.abs_err for p in report.params) <= 1e-12


def test_no_false_alarm_on_a_random_deeper_network():
    report = compare(reference.gradients, sizes=(3, 4, 3, 2), x=[0.5, -1.0, 2.0], t=[0.2, 0.8])
    assert report.ok


def test_factor_two_on_a_bias():
    def change(g, s, x, t):
        g["2.bias"] = 2 * g["2.bias"]

    report = compare(broken(change))
    assert [p.name for p in report.params if not p.ok] == ["2.bias"]
    assert report["2.bias"].diagnosis.startswith("manual is exactly 2x autodiff")
    assert any("the weight gradient matches, so the δ is right" in f for f in report.findings)


def test_flipped_sign():
    def change(g, s, x, t):
        g["0.weight"] = -g["0.weight"]

    report = compare(broken(change))
    assert report["0.weight"].diagnosis.startswith("sign flipped")
    assert any("the bias gradient matches, so its δ is right" in f for f in report.findings)


def test_transposed_weight_square_and_not():
    def change(g, s, x, t):
        g["2.weight"] = g["2.weight"].T.copy()

    assert "transpose" in compare(broken(change))["2.weight"].diagnosis
    report = compare(broken(change), sizes=(3, 4, 2), x=[0.1, 0.2, 0.3], t=[0.0, 1.0])
    assert "transpose" in report["2.weight"].diagnosis and not report["2.weight"].ok


def test_missing_sigma_prime_at_the_output():
    def manual(state, x, t):
        layers = reference.layers_from_state(state)
        r = reference.backprop(layers, x, t)
        a_out = r.a[-1]
        delta_o = a_out - t  # σ'(s_o) forgotten
        delta_h = (delta_o @ layers[1][0]) * r.a[0] * (1 - r.a[0])
        return {
            "0.weight": np.outer(delta_h, x),
            "0.bias": delta_h,
            "2.weight": np.outer(delta_o, r.a[0]),
            "2.bias": delta_o,
        }

    report = compare(manual)
    assert "missing" in report["2.bias"].diagnosis and "missing" in report["2.weight"].diagnosis
    assert report.first_wrong.startswith("δ of layer 2")


def test_sigma_prime_twice_in_the_hidden_layer():
    def change(g, s, x, t):
        r = reference.backprop(reference.layers_from_state(s), x, t)
        sp = r.a[0] * (1 - r.a[0])
        g["0.weight"] = g["0.weight"] * sp[:, None]
        g["0.bias"] = g["0.bias"] * sp

    report = compare(broken(change))
    assert "applied twice" in report["0.weight"].diagnosis
    assert any("the layers above layer 0 are right and its δ is wrong" in f for f in report.findings)


def test_the_articles_level1_code_doubles_every_bias_update():
    report = compare(from_step(level1.step, 0.5))
    assert [p.name for p in report.params if not p.ok] == ["0.bias", "2.bias"]
    for name in ("0.bias", "2.bias"):
        assert "exactly 2x" in report[name].diagnosis and "once per input" in report[name].diagnosis
    # on a 3-4-2 network the factor is each layer's fan-in: 3 for layer 0, 4 for layer 2
    report = compare(from_step(level1.step, 0.5), sizes=(3, 4, 2), x=[1, 2, 3], t=[0, 1])
    assert "exactly 3x" in report["0.bias"].diagnosis and "exactly 4x" in report["2.bias"].diagnosis


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_the_articles_level2_code_applies_sigma_prime_twice(engine):
    report = compare(lambda s, x, t: (level2.step(s, x, t, 0.5), 0.5), engine=engine)
    assert [p.name for p in report.params if not p.ok] == ["0.weight", "0.bias"]
    assert "applied twice" in report["0.bias"].diagnosis
    # by hand: the article's hidden delta is the true one times a_h1 (1 - a_h1)
    m = article.manual_numbers()
    assert report["0.bias"].manual[0] == pytest.approx(m["delta_h1"] * m["a_h1"] * (1 - m["a_h1"]), abs=1e-15)


def test_json_and_table():
    report = compare(lambda s, x, t: (level2.step(s, x, t, 0.5), 0.5))
    doc = json.loads(report.to_json())
    assert doc["ok"] is False and {p["name"] for p in doc["params"]} == {"0.weight", "0.bias", "2.weight", "2.bias"}
    m = article.manual_numbers()
    assert doc["params"][0]["autodiff"][0][0] == pytest.approx(m["delta_h1"] * 2.78, abs=1e-15)  # ∂E/∂w1 = δ_h1 i1
    assert "WRONG" in str(report)


def test_manual_must_return_a_dict():
    with pytest.raises(TypeError, match="dict name -> gradient"):
        compare(lambda s, x, t: [1, 2])


def test_draw_marks_wrong_parameters_red():
    report = compare(lambda s, x, t: (level2.step(s, x, t, 0.5), 0.5))
    source = report.draw().source
    assert source.count('fillcolor="#e31a1c"') == 2  # 0.weight and 0.bias
    assert 'fillcolor="#ff7f00"' in source  # the hidden layer's output: its delta is the first wrong quantity
    value_report = compare(lambda s, x, t: (level1.step(s, x, t, 0.5), 0.5), engine="value")
    assert value_report.draw().source.count('fillcolor="#e31a1c"') == 4  # the four bias Values


def test_the_example_script_reports_both_mistakes(capsys):
    import runpy

    runpy.run_path(str(EXAMPLES / "check_article_code.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.count("MISTAKES FOUND") == 4 and out.count("all gradients match") == 2
    assert (
        "applied twice" in out
        and "exactly 2x autodiff" in out
        and "with the class labels, not the one-hot targets" in out
    )


# ---------------------------------------------------------------------- round 2: issue 14


def tanh_manual(state, x, t, slip=None):
    """The delta rule for tanh layers, in NumPy; `slip` plants one mistake."""
    a0 = np.atleast_2d(x)
    w1, b1, w2, b2 = state["0.weight"], state["0.bias"], state["2.weight"], state["2.bias"]
    a1 = np.tanh(a0 @ w1.T + b1)
    a2 = np.tanh(a1 @ w2.T + b2)
    d2 = (a2 - np.atleast_2d(t)) * (1 - a2**2)
    prime = a1 * (1 - a1) if slip == "sigmoid formula" else 1 - a1**2
    d1 = (d2 @ w2) * prime
    return {"0.weight": d1.T @ a0, "0.bias": d1.sum(0), "2.weight": d2.T @ a1, "2.bias": d2.sum(0)}


def tanh_model(dtype=np.float64, engine="tensor"):
    return nn.Sequential(
        nn.Linear(3, 4, dtype=dtype, engine=engine, generator=1),
        nn.Tanh(),
        nn.Linear(4, 2, dtype=dtype, engine=engine, generator=2),
        nn.Tanh(),
    )


X3 = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
T2 = np.array([[0.2, 0.8], [0.7, 0.1]])


def test_float32_code_is_not_a_false_alarm_and_the_tolerance_is_reported():
    model = tanh_model(np.float32)

    def manual32(state, x, t):
        return {
            k: v.astype(np.float32)
            for k, v in tanh_manual(
                {k: v.astype(np.float32) for k, v in state.items()}, x.astype(np.float32), t.astype(np.float32)
            ).items()
        }

    report = compare_gradients(model, loss_fn, X3, T2, manual32)
    assert report.ok, str(report)
    assert report.tolerance["rtol"] == 1e-4 and "float32" in report.tolerance["why"]
    assert "rtol 0.0001" in str(report)
    # float32 rounding is really there: at float64's tolerance the float32 model differs from float64 maths
    strict = compare_gradients(model, loss_fn, X3, T2, tanh_manual, rtol=1e-12, atol=0.0)
    assert not strict.ok and strict.tolerance["why"] == "as given"


def test_the_tanh_diagnosis_names_tanh_not_the_sigmoid_formula():
    report = compare_gradients(tanh_model(), loss_fn, X3, T2, lambda s, x, t: tanh_manual(s, x, t, "sigmoid formula"))
    text = report["0.weight"].diagnosis
    assert "a(1 − a), the Sigmoid's derivative" in text and "activation is Tanh, whose derivative is 1 − a²" in text


class TwoLayers(nn.Module):
    """Not a Sequential: the σ' diagnoses must still find the activations."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4, dtype=np.float64, generator=3)
        self.act = nn.Sigmoid()
        self.out = nn.Linear(4, 2, dtype=np.float64, generator=4)
        self.squash = nn.Sigmoid()

    def forward(self, x):
        return self.squash(self.out(self.act(self.hidden(x))))


def test_activation_diagnoses_work_for_any_module():
    model = TwoLayers()

    def manual(state, x, t):
        renamed = {k.replace("hidden", "0").replace("out", "2"): v for k, v in state.items()}
        r = reference.backprop(reference.layers_from_state(renamed), x, t)
        d_h = r.delta[0] * r.a[0] * (1 - r.a[0])  # σ' applied twice in the hidden layer
        g = reference.gradients(renamed, x, t)
        return {
            "hidden.weight": d_h.T @ np.atleast_2d(x),
            "hidden.bias": d_h.sum(0),
            "out.weight": g["2.weight"],
            "out.bias": g["2.bias"],
        }

    report = compare_gradients(model, loss_fn, X3, T2, manual)
    assert (
        "the derivative of the Sigmoid, a(1 − a), is applied twice in the delta of layer hidden"
        in report["hidden.weight"].diagnosis
    )
    assert report.first_wrong.startswith("δ of layer hidden")


def test_a_mean_mse_with_three_outputs_is_named_and_can_be_told_to_the_checker():
    model = model_for((3, 4, 3), seed=2)
    x, t = np.array([0.5, -1.0, 2.0]), np.array([0.2, 0.8, 0.5])

    def mean_mse(state, x, t):
        return {k: v * (2 / 3) for k, v in reference.gradients(state, x, t).items()}

    report = compare_gradients(model, loss_fn, x, t, mean_mse)
    assert all("manual is exactly 0.6667x autodiff" in p.diagnosis for p in report.params)
    assert any("the mean of (output − target)² over every output" in f and "--loss mean" in f for f in report.findings)
    told = compare_gradients(model, loss_function("mean"), x, t, mean_mse)
    assert told.ok


def test_missing_1_over_n_is_told_apart_from_an_update_per_input():
    # N = 2 samples and layer 2 has 2 inputs: both predict 2x; a batch of 1 gives 1x, so it is the 1/N.
    model = model_for((3, 2, 2), seed=3)
    report = compare_gradients(model, loss_function("half-sum-batch-mean"), X3, T2, reference.gradients)
    text = report["2.bias"].diagnosis
    assert "the 1/N of the batch mean is missing" in text and "once per input" not in text  # no update here


def test_lr_twice_is_told_apart_from_a_batch_mean():
    model = model_for((3, 2, 2), seed=3)

    def step(state, x, t, lr):
        g = reference.gradients(state, x, t)
        return {k: state[k] - lr * lr * g[k] for k in state}  # 0.5x: lr = 0.5, and 1/N = 0.5 too

    report = compare_gradients(model, loss_fn, X3, T2, from_step(step, 0.5))
    assert "the learning rate is applied twice" in report["0.weight"].diagnosis
    text = report["0.weight"].diagnosis
    assert "rerun on the first sample only of the batch gives 0.5x" in text  # a batch mean would give 1x there
    assert "where the half-sum-batch-mean loss would give 1x" in text


def test_a_misspelled_key_is_named_with_the_closest_real_one():
    def typo(state, x, t):
        g = reference.gradients(state, x, t)
        g["0.weigth"] = g.pop("0.weight")
        return g

    report = compare(typo)
    assert "'0.weigth', which is not a parameter: a misspelled key?" in report["0.weight"].diagnosis
    assert "'0.weigth' is not a parameter of the model (did you mean '0.weight'?)" in report.findings


def test_a_nan_gradient_is_named_as_such():
    report = compare(lambda s, x, t: {k: np.full(v.shape, np.nan) for k, v in s.items()})
    assert not report.ok
    assert all(p.diagnosis.startswith("manual holds NaN or an infinity") for p in report.params)


class Affine(nn.Module):
    """A hand-made layer s = x Wᵀ + b whose parameters are named nothing like `weight` and `bias`."""

    def __init__(self, n_in, n_out, seed):
        super().__init__()
        start = nn.Linear(n_in, n_out, dtype=np.float64, generator=seed)
        self.offsets = Tensor(start.bias.data.copy(), requires_grad=True)  # b, registered first
        self.hidden_weights_xyz = Tensor(start.weight.data.copy(), requires_grad=True)  # W, (out, in)

    def forward(self, x):
        return linear(x, self.hidden_weights_xyz, self.offsets)


class OddNames(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Affine(3, 4, seed=3)
        self.act = nn.Sigmoid()
        self.second = Affine(4, 2, seed=4)
        self.squash = nn.Sigmoid()

    def forward(self, x):
        return self.squash(self.second(self.act(self.first(x))))


def _as_article_names(state):
    """The reference delta rule reads `0.weight`..; the model's own keys are the user's attribute names."""
    return {
        "0.weight": state["first.hidden_weights_xyz"],
        "0.bias": state["first.offsets"],
        "2.weight": state["second.hidden_weights_xyz"],
        "2.bias": state["second.offsets"],
    }


def _odd_grads(g):
    return {
        "first.hidden_weights_xyz": g["0.weight"],
        "first.offsets": g["0.bias"],
        "second.hidden_weights_xyz": g["2.weight"],
        "second.offsets": g["2.bias"],
    }


def test_the_layers_are_found_from_the_model_not_from_the_parameter_names():
    """Each parameter's layer and part come from the module holding it and its shape, so any name works."""
    model = OddNames()

    def sigma_twice(state, x, t):
        renamed = _as_article_names(state)
        r = reference.backprop(reference.layers_from_state(renamed), x, t)
        d_h = r.delta[0] * r.a[0] * (1 - r.a[0])  # σ' applied twice in the hidden layer
        g = _odd_grads(reference.gradients(renamed, x, t))
        return {**g, "first.hidden_weights_xyz": d_h.T @ np.atleast_2d(x), "first.offsets": d_h.sum(0)}

    report = compare_gradients(model, loss_fn, X3, T2, sigma_twice)
    right = _odd_grads(reference.gradients(_as_article_names(model.state_dict()), X3, T2))
    for p in report.params:  # autodiff itself, against the textbook delta rule
        np.testing.assert_allclose(p.autodiff, right[p.name], rtol=1e-12, atol=1e-15)
    assert [p.name for p in report.params if not p.ok] == ["first.offsets", "first.hidden_weights_xyz"]
    assert (
        "the derivative of the Sigmoid, a(1 − a), is applied twice in the delta of layer first"
        in report["first.hidden_weights_xyz"].diagnosis
    )
    assert report.first_wrong == "δ of layer first (∂E/∂s, the output of Affine first)"
    assert any("the layers above layer first are right and its δ is wrong" in f for f in report.findings)


def test_a_bias_updated_per_input_is_named_whatever_the_bias_is_called():
    model = OddNames()

    def per_input(state, x, t, lr):
        g = _odd_grads(reference.gradients(_as_article_names(state), x, t))
        g = {**g, "second.offsets": 4 * g["second.offsets"]}  # the update sits in the loop over the 4 inputs
        return {k: state[k] - lr * g[k] for k in state}

    report = compare_gradients(model, loss_fn, X3, T2, from_step(per_input, 0.1))
    assert [p.name for p in report.params if not p.ok] == ["second.offsets"]
    assert "the bias is updated once per input of the layer (4 inputs)" in report["second.offsets"].diagnosis
    assert any(f.startswith("layer second: the weight gradient matches, so the δ is right") for f in report.findings)
