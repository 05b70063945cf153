"""The live view's Python side, without a browser: the checks on what a page sends, the training it
runs (checked against `fit`), the numbers it draws (checked against the engine's own forward pass),
the recording's decimation, and the server's refusals (Host/Origin, bad bodies, floods)."""

from __future__ import annotations

import base64
import http.client
import json
import time

import numpy as np
import pytest

from tinygrad_edu import nn, optim
from tinygrad_edu.errors import ArgumentError
from tinygrad_edu.train import datasets, fit, predict
from tinygrad_edu.viz.live_data import MAX_POINTS, Points, RateLimit, read_command
from tinygrad_edu.viz.live_model import boundary_frame, classify, dense_layers, forward_numpy
from tinygrad_edu.viz.live_session import Recorder, Session, decimate
from tinygrad_edu.viz.live_view import live, record

BOX = [-1.0, 2.0, -1.0, 1.5]


def moons(n=40):
    X, y = datasets.make_moons(n, noise=0.1, generator=3)
    return X, (2.0 * y - 1).reshape(-1, 1)


def mlp(engine, seed=0, final=None):
    layers = [
        nn.Linear(2, 8, generator=seed, engine=engine),
        nn.ReLU(),
        nn.Linear(8, 1, generator=seed + 1, engine=engine),
    ]
    return nn.Sequential(*layers, *([final] if final else []))


# ---------------------------------------------------------------------- what the page may send


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", '"action"'),
        (body(action="explode"), '"action"'),
        (body(action="add", x=0.0, y=0.0), "takes cls, x, y"),
        (body(action="add", x=0.0, y=0.0, cls=0, extra=1), "takes cls, x, y"),
        (body(action="add", x=5.0, y=0.0, cls=0), "outside the plot"),
        (body(action="add", x=0.0, y=-3.0, cls=1), "outside the plot"),
        (body(action="add", x="0", y=0.0, cls=0), "x must be a finite number"),
        (body(action="add", x=True, y=0.0, cls=0), "x must be a finite number"),
        (body(action="add", x=0.0, y=0.0, cls=2), "class must be a whole number from 0 to 1"),
        (body(action="add", x=0.0, y=0.0, cls=0.5), "class must be a whole number"),
        (b'{"action": "add", "x": NaN, "y": 0, "cls": 0}', "finite"),
        (body(action="lr", value=-1), "learning rate must be > 0"),
        (body(action="lr", value=1e9), "at most 100"),
        (body(action="speed", value=-5), "speed"),
        (body(action="pause", value=1), "takes nothing else"),
        (b"{" + b" " * 2000 + b"}", "at most 1024"),
    ],
)
def test_every_bad_command_is_refused_with_a_sentence(raw, says):
    with pytest.raises(ArgumentError) as caught:
        read_command(raw, BOX, n_classes=2)
    assert says in str(caught.value)


def test_good_commands_come_back_checked():
    assert read_command(body(action="add", x=1.5, y=-0.5, cls=1), BOX, 2) == {
        "action": "add",
        "x": 1.5,
        "y": -0.5,
        "cls": 1,
    }
    assert read_command(body(action="lr", value=0.25), BOX, 2) == {"action": "lr", "value": 0.25}
    assert read_command(body(action="speed", value=0), BOX, 2) == {"action": "speed", "value": 0.0}
    assert read_command(body(action="pause"), BOX, 2) == {"action": "pause"}
    with pytest.raises(ArgumentError, match="two features"):
        read_command(body(action="add", x=0.0, y=0.0, cls=0), None, 2)


def test_the_rate_limit_allows_twenty_a_second():
    now = [100.0]
    limit = RateLimit(20, clock=lambda: now[0])
    assert all(limit.allow() for _ in range(20))
    assert not limit.allow()
    now[0] += 0.5
    assert not limit.allow()
    now[0] += 0.51  # the first twenty are more than a second old
    assert limit.allow()


@pytest.mark.parametrize(
    ("Y", "kind", "new_one"),
    [
        (np.array([0, 1, 2]), "labels", np.array(1)),
        (datasets.one_hot(np.array([0, 1, 1])), "one-hot", np.array([0.0, 1.0])),
        (np.array([[-1.0], [1.0]]), "sign", np.array([1.0])),
        (np.array([[0.0], [1.0]]), "binary", np.array([1.0])),
    ],
)
def test_a_new_point_gets_a_target_in_the_data_sets_own_encoding(Y, kind, new_one):
    points = Points(np.zeros((len(Y), 2)), Y)
    assert points.kind == kind
    points.add(0.5, 0.5, 1)
    assert np.array_equal(points.Y[-1], new_one) and points.Y.dtype == Y.dtype
    assert points.classes()[-1] == 1
    assert points.version == 1


def test_points_are_bounded_and_the_last_one_stays():
    points = Points(np.zeros((MAX_POINTS, 2)), np.zeros(MAX_POINTS, dtype=np.int64))
    with pytest.raises(ArgumentError, match=f"{MAX_POINTS} points"):
        points.add(0, 0, 0)
    one = Points(np.array([[0.0, 0.0]]), np.array([1]))
    with pytest.raises(ArgumentError, match="last training point"):
        one.delete(0)
    with pytest.raises(ArgumentError, match="no point there"):
        one.nearest(1.0, 1.0, radius=0.1)


# ---------------------------------------------------------------------- what the page draws


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_the_boundary_in_numpy_matches_the_engines_forward_pass(engine):
    model = mlp(engine, final=nn.Sigmoid())
    grid = np.random.default_rng(0).uniform(-2, 2, size=(25, 2))
    layers = dense_layers(model)
    assert [layer.activation for layer in layers] == ["relu", "sigmoid"]
    tol = 1e-12 if engine == "value" else 1e-6  # the tensor model is float32
    np.testing.assert_allclose(forward_numpy(layers, grid), predict(model, grid), rtol=tol, atol=tol)


def test_the_articles_network_is_read_as_sigmoid_layers():
    net = nn.Network([nn.Layer.random(2, 2, generator=1)], nn.Layer.random(2, 2, generator=2))
    layers = dense_layers(net)
    assert [layer.shape for layer in layers] == [(2, 2), (2, 2)]
    x = np.array([[2.78, 2.55], [7.6, 2.7]])
    np.testing.assert_allclose(forward_numpy(layers, x), predict(net, x), rtol=1e-12)


def test_a_model_that_is_not_a_chain_is_not_drawn():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 1)

        def forward(self, x):
            return self.a(x) * self.a(x)

    assert dense_layers(Odd()) is None
    assert dense_layers(nn.Sequential(nn.ReLU(), nn.Linear(2, 1))) is None


def test_classify_sign_sigmoid_and_argmax():
    cls, conf = classify(np.array([[-2.0], [0.5], [0.0]]), threshold=0.0)
    assert cls.tolist() == [0, 1, 0] and conf[0] > conf[1] > conf[2] == 0
    cls, _ = classify(np.array([[0.4], [0.6]]), threshold=0.5)
    assert cls.tolist() == [0, 1]
    cls, conf = classify(np.array([[0.1, 0.9, 0.2], [3.0, 1.0, 0.0]]), threshold=0.0)
    assert cls.tolist() == [1, 0]
    e = np.exp([3.0, 1.0, 0.0])
    assert conf[1] == pytest.approx((e[0] - e[1]) / e.sum())
    cells = base64.b64decode(boundary_frame(np.array([[-5.0], [5.0]]), 0.0, 2))
    assert cells[0] // 128 == 0 and cells[1] // 128 == 1 and cells[0] % 128 == 127


# ---------------------------------------------------------------------- the training it runs


@pytest.mark.parametrize(("engine", "batch"), [("tensor", None), ("tensor", 8), ("value", 8)])
def test_an_unpaced_session_trains_exactly_as_fit(engine, batch):
    X, Y = moons(24)
    histories, weights = [], []
    for how in ("fit", "session"):
        model = mlp(engine)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        if how == "fit":
            history = fit(model, nn.max_margin_loss, opt, X, Y, 6, batch_size=batch, progress=False, generator=5)
        else:
            session = Session(
                model, X, Y, nn.max_margin_loss, opt, 6, batch_size=batch, generator=5, speed=0, live=False
            )
            history = session.run()
            assert session.step == 6 * (1 if batch is None else 3)
        histories.append(history)
        weights.append(model.state_dict())
    assert histories[0].epoch == histories[1].epoch == list(range(1, 7))
    assert histories[0].history == histories[1].history
    for key in weights[0]:
        assert np.array_equal(weights[0][key], weights[1][key])


def test_decimation_keeps_first_and_last_evenly_spaced():
    assert decimate(7, 10) == list(range(7))
    picked = decimate(10_001, 500)
    assert len(picked) <= 500 and picked[0] == 0 and picked[-1] == 10_000
    gaps = np.diff(picked)
    assert gaps.max() - gaps.min() <= 1


def test_the_recorder_stays_bounded_over_a_long_run():
    points = Points(np.zeros((2, 2)), np.array([0, 1]))
    recorder = Recorder(limit=50)
    for step in range(0, 10_001):
        if step == 7000:
            points.add(0.1, 0.1, 1)  # between two recorded frames
        if recorder.wants(step) or step == 10_000:
            recorder.add({"step": step, "id": step}, points)
        assert len(recorder.kept) <= 101
    frames = recorder.frames()
    steps = [f["step"] for f in frames]
    assert len(frames) <= 50 and steps[0] == 0 and steps[-1] == 10_000
    assert len(frames[0]["points"]) == 2
    later = [f for f in frames if f["step"] >= 7000 and "points" in f]
    assert later and len(later[0]["points"]) == 3  # the change of points survived the thinning


def test_a_1000_epoch_recording_is_under_5_mb(tmp_path):
    X, Y = moons(100)
    model = mlp("tensor")
    path = tmp_path / "run.html"
    history = record(model, (X, Y), path, loss_fn=nn.max_margin_loss, epochs=1000, batch_size=None)
    assert len(history.epoch) == 1000
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 5_000_000
    data = json.loads(text[text.index('type="application/json">') + 24 : text.index("</script>")])
    steps = [f["step"] for f in data["frames"]]
    assert len(steps) <= 500 and steps[0] == 0 and steps[-1] == 1000
    assert data["frames"][-1]["loss"] == pytest.approx(history.history["loss"][-1], rel=0.5)
    assert "http" not in text.replace("http://www.w3.org", "")  # nothing fetched from a network


# ---------------------------------------------------------------------- the server


@pytest.fixture
def view():
    X, Y = moons(30)
    handle = live(mlp("tensor"), (X, Y), loss_fn=nn.max_margin_loss, epochs=3, speed=0, open_browser=False)
    yield handle
    handle.stop()


def request(view, method, path, body=None, headers=None):
    port = int(view.url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    all_headers = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def test_only_loopback_hosts_and_origins_are_served(view):
    port = view.url.rsplit(":", 1)[1].strip("/")
    assert view.url.startswith("http://127.0.0.1:")
    assert request(view, "GET", "/")[0] == 200
    assert request(view, "GET", "/", headers={"Host": f"localhost:{port}"})[0] == 200
    assert request(view, "GET", "/", headers={"Host": "attacker.example"})[0] == 403
    assert request(view, "GET", "/state", headers={"Host": f"attacker.example:{port}"})[0] == 403
    origin = {"Origin": "http://attacker.example"}
    assert request(view, "POST", "/control", body=body(action="pause"), headers=origin)[0] == 403
    assert request(view, "GET", "/state", headers={"Origin": f"http://127.0.0.1:{port}"})[0] == 200
    status, icon = request(view, "GET", "/favicon.ico")
    assert status == 200 and icon.startswith(b"<svg")


def test_bad_commands_are_refused_and_training_is_unharmed(view):
    status, answer = request(view, "POST", "/control", body=body(action="add", x=99.0, y=0.0, cls=0))
    assert status == 400 and "outside the plot" in json.loads(answer)["error"]
    assert request(view, "POST", "/control", body=b"x" * 5000)[0] == 413
    assert request(view, "GET", "/state?since=abc")[0] == 400
    assert request(view, "GET", "/nothing")[0] == 404
    codes = [request(view, "POST", "/control", body=body(action="add", x=0.1, y=0.1, cls=1))[0] for _ in range(25)]
    assert codes.count(200) == 20 and codes[20:] == [429] * 5
    state = json.loads(request(view, "GET", "/state?since=0&frame=-1&points=-1")[1])
    assert state["n_points"] == 50 and len(state["points"]) == 50
    assert all(np.isfinite(state["losses"]))


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_a_model_that_is_not_a_chain_gets_its_boundary_from_its_own_forward_pass(engine):
    class Squared(nn.Module):  # (w·x + b)², then the sign: not a chain of dense layers
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 1, generator=0, engine=engine)

        def forward(self, x):
            out = self.a(x)
            return out * out - 0.5 if engine == "tensor" else [v * v - 0.5 for v in out]

    X, Y = moons(20)
    model = Squared()
    session = Session(model, X, Y, nn.max_margin_loss, optim.SGD(model.parameters(), lr=0.01), 1, live=False)
    n = session.meta()["grid"]
    assert n == (20 if engine == "value" else 40) and session.frame["network"] is None
    cells = np.frombuffer(base64.b64decode(session.frame["boundary"]), dtype=np.uint8)
    expected, _ = classify(predict(model, session.grid), 0.0)
    assert len(cells) == n * n and np.array_equal(cells // 128, expected)


def test_data_with_more_than_two_features_has_no_plot_and_refuses_points():
    X = np.random.default_rng(0).normal(size=(12, 3))
    y = np.arange(12) % 3
    model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.ReLU(), nn.Linear(4, 3, generator=1))
    session = Session(model, X, y, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), 1, live=False)
    assert session.meta()["box"] is None and "boundary" not in session.frame
    assert session.points.n_classes == 3
    with pytest.raises(ArgumentError, match="two features"):
        read_command(body(action="add", x=0.0, y=0.0, cls=0), session.box, 3)


def test_an_error_in_a_step_ends_training_shows_on_the_page_and_is_raised_by_stop():
    X, Y = moons(10)
    calls = []

    def failing_loss(out, target):
        calls.append(1)
        if len(calls) > 3:  # the initial evaluation, then two steps, then a mistake
            raise ArgumentError("the loss saw something it cannot take")
        return nn.max_margin_loss(out, target)

    handle = live(mlp("tensor"), (X, Y), loss_fn=failing_loss, epochs=5, speed=0, open_browser=False)
    handle._thread.join(10)
    state = json.loads(request(handle, "GET", "/state")[1])
    assert state["step"] == 2 and "cannot take" in state["error"]
    with pytest.raises(ArgumentError, match="cannot take"):
        handle.stop()


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_compiled_steps_train_exactly_as_eager_and_survive_a_new_point(engine, tmp_path):
    pytest.importorskip("tinygrad_edu.train.compiled")
    X, Y = moons(16)
    runs = []
    for compiled in (False, True):
        model = mlp(engine)
        sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        history = record(model, (X, Y), tmp_path / "run.html", loss_fn=nn.max_margin_loss, optimizer=sgd,
                         epochs=4, batch_size=8, generator=2, compile=compiled)  # fmt: skip
        runs.append((history.history, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
    # live: a point added mid-run changes the batch's shape, so the compiled step traces again
    handle = live(mlp(engine), (X, Y), loss_fn=nn.max_margin_loss, epochs=3, batch_size=8, speed=0,
                  open_browser=False, compile=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not handle.session.finished and time.monotonic() < deadline:
            handle._thread.join(0.02)
        assert request(handle, "POST", "/control", body=body(action="add", x=0.5, y=0.25, cls=1))[0] == 200
        deadline = time.monotonic() + 30
        steps = 3 * 2 + 3 * 3  # 3 epochs of 16 points in 2 batches, then 3 of 17 points in 3
        while handle.session.step < steps and time.monotonic() < deadline:
            handle._thread.join(0.02)
        assert handle.session.error == "" and handle.session.step == steps
    finally:
        history = handle.stop()
    assert len(history.epoch) == 6


def test_a_slow_or_closed_tab_never_holds_training_up():
    import socket

    X, Y = moons(30)
    handle = live(mlp("tensor"), (X, Y), loss_fn=nn.max_margin_loss, epochs=10_000, speed=0, open_browser=False)
    port = int(handle.url.rsplit(":", 1)[1].strip("/"))
    stalled = []
    try:
        for k in range(5):
            tab = socket.create_connection(("127.0.0.1", port))
            tab.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            if k % 2:  # half a request, never finished
                tab.sendall(b"GET /state HTTP/1.1\r\nHost: 127.0.0.1")
            else:  # whole requests whose answers are never read
                tab.sendall(f"GET /state?since=0 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode() * 50)
            stalled.append(tab)
        stalled[0].close()  # and one tab closed mid-answer
        before = handle.session.step
        deadline = time.monotonic() + 10
        while handle.session.step < before + 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handle.session.step >= before + 50
    finally:
        for tab in stalled:
            tab.close()
        handle.stop()
