"""The pieces behind three learner styles: what an undeclared file is tried as, a STATE stored (in, out), and
minibatch SGD written inside step(). Each against numbers computed here another way."""

import numpy as np

from tinygrad_edu.check.layout import InOutCode, in_out_keys
from tinygrad_edu.check.settings import Settings
from tinygrad_edu.check.steps import Rule, minibatch_size
from tinygrad_edu.check.undeclared import candidates


def settings(declared: set[str], sizes=(3, 4, 2), loss="half-sum", acts=("sigmoid", "sigmoid")) -> Settings:
    return Settings(list(sizes), list(acts), loss, None, None, None, 0.5, {"name": "sgd"}, None, None, declared)


def test_a_file_that_declares_both_is_tried_only_as_declared():
    assert candidates(settings({"LOSS", "ACTIVATION"}), True) == [("half-sum", ("sigmoid", "sigmoid"))]


def test_an_undeclared_loss_is_tried_as_every_cross_entropy_with_its_output_activation():
    tried = candidates(settings({"ACTIVATION"}, acts=("tanh", "sigmoid")), True)
    assert tried == [
        ("half-sum", ("tanh", "sigmoid")),
        ("bce", ("tanh", "sigmoid")),
        ("bce-mean", ("tanh", "sigmoid")),
        ("cross-entropy", ("tanh", "identity")),  # the softmax belongs to the loss
        ("cross-entropy-mean", ("tanh", "identity")),
    ]
    # targets outside [0, 1] cannot be binary cross-entropy's; one output cannot be a softmax's
    assert [c[0] for c in candidates(settings({"ACTIVATION"}), False)] == [
        "half-sum",
        "cross-entropy",
        "cross-entropy-mean",
    ]
    assert [c[0] for c in candidates(settings({"ACTIVATION"}, sizes=(3, 4, 1)), True)] == [
        "half-sum",
        "bce",
        "bce-mean",
    ]


def test_neither_declared_tries_each_hidden_activation_with_a_same_linear_or_sigmoid_output():
    tried = candidates(settings(set()), True)
    assert len(tried) == len(set(tried))  # no reading twice
    mse = {acts for loss, acts in tried if loss == "half-sum"}
    assert mse == {(h, last) for h in ("sigmoid", "tanh", "relu", "identity") for last in (h, "identity", "sigmoid")}
    assert {acts for loss, acts in tried if loss == "cross-entropy"} == {
        (h, "identity") for h in ("sigmoid", "tanh", "relu", "identity")
    }


def test_in_out_keys_reads_the_layout_from_shapes_only_where_it_can():
    sizes = [3, 5, 2]
    out_in = {"0.weight": np.zeros((5, 3)), "0.bias": np.zeros(5), "2.weight": np.zeros((2, 5)), "2.bias": np.zeros(2)}
    assert in_out_keys(out_in, sizes) == set()
    in_out = dict(out_in, **{"0.weight": np.zeros((3, 5)), "2.weight": np.zeros((5, 2))})
    assert in_out_keys(in_out, sizes) == {"0.weight", "2.weight"}
    assert in_out_keys(dict(out_in, **{"0.weight": np.zeros((4, 4))}), sizes) == set()  # neither: the load says why
    assert in_out_keys({"0.weight": np.zeros((2, 2))}, [2, 2]) == set()  # square: taken as (out, in)


def test_in_out_code_hands_the_file_its_layout_and_reads_the_answer_back():
    seen = {}

    class Code:
        def call(self, fn, state, *args, **kwargs):
            seen.update(state)
            return {"0.weight": state["0.weight"] * 2, "0.bias": state["0.bias"] + 1}

    w = np.arange(6.0).reshape(2, 3)  # (out, in) as the model keeps it
    answer = InOutCode(Code(), {"0.weight"}).call("gradients", {"0.weight": w, "0.bias": np.ones(2)}, None, None)
    np.testing.assert_array_equal(seen["0.weight"], w.T)  # the file saw (in, out)
    np.testing.assert_array_equal(answer["0.weight"], 2 * w)  # read back (out, in)
    np.testing.assert_array_equal(answer["0.bias"], [2.0, 2.0])


def test_minibatch_size_finds_the_slices_a_hand_written_epoch_used():
    """Least squares y = x·w, gradient of ½ Σ (x·w − y)²; a learner's epoch of minibatches of 2, written out."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    start = {"w": rng.normal(size=3)}

    def gradient_of_rows(p, rows):
        return {"w": x[rows].T @ (x[rows] @ p["w"] - y[rows])}

    def learner_epoch(w, size, lr):
        for i in range(0, 5, size):
            xb, yb = x[i : i + size], y[i : i + size]
            w = w - lr * xb.T @ (xb @ w - yb)
        return w

    theirs, w = [], start["w"]
    for lr in (0.1, 0.05):
        w = learner_epoch(w, 2, lr)
        theirs.append({"w": w})
    rule = Rule("sgd", {}, (0.1, 0.05))

    def close(a, b):
        return np.allclose(a, b, rtol=1e-12, atol=1e-14)

    assert minibatch_size(start, gradient_of_rows, 5, rule, theirs, close) == (2, "")
    whole = [{"w": start["w"] - 0.1 * gradient_of_rows(start, slice(None))["w"]}]
    assert minibatch_size(start, gradient_of_rows, 5, rule, whole, close) is None  # one full-batch step is not one
