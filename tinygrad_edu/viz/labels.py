"""What a drawn node says: escaped text, numbers to 4 significant digits, a tensor's shape and values.

DOT is a language, so a user's label is data that must never become syntax. Inside a quoted record
label, `"` ends the string, `{ } | < >` start fields and ports, `\\` starts an escape (`\\N` would
print the node's id) and a raw newline is not allowed. Every such character gets a backslash, so a
label like `a|b"}` is drawn exactly as written. `dot` also decodes HTML entities (`&amp;` would be
drawn as `&`), so `&` itself is written as `&amp;`.

Some characters cannot be drawn at all: control characters (ESC, NUL, ...) are not allowed in XML,
so they would make the SVG unreadable (and NUL ends `dot`'s strings), and a lone surrogate cannot be
encoded to UTF-8. Those are drawn as their Python escape, `\\x1b` or `\\udc80`, so the picture says
exactly what the label holds.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import ArgumentTypeError

NO_GRAD = "—"  # drawn where no backward pass reached the node (not 0: zero is a real gradient)
MAX_SHOWN = 6  # a tensor with at most this many elements shows its values

_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        '"': '\\"',
        "{": "\\{",
        "}": "\\}",
        "|": "\\|",
        "<": "\\<",
        ">": "\\>",
        "\n": "\\n",
        "\t": " ",
        "&": "&amp;",
    }
)

# Not drawable: C0/C1 controls but tab and newline, surrogates, and the two XML non-characters.
_UNDRAWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _python_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# Records trim spaces at the ends of a field and merge runs of them (even escaped ones, at the
# start): those spaces become no-break spaces, which `dot` keeps and draws as spaces.
_LOOSE_SPACE = re.compile(r"^ | $|(?<= ) | (?= )")


def escape(text: object) -> str:
    """`text` as it must appear inside a quoted DOT record label to be drawn literally."""
    visible = _UNDRAWABLE.sub(_python_escape, str(text))
    return _LOOSE_SPACE.sub("\u00a0", visible.translate(_ESCAPES))


def number(x: float) -> str:
    """A float with 4 significant digits: 0.082167 -> '0.08217'."""
    return f"{x:.4g}"


def array(a: np.ndarray) -> str:
    """A small array's values, 4 significant digits each, on one line: '[[0.1, 0.2], [0.3, 0.4]]'."""
    if a.ndim == 0:
        return number(float(a))
    text = np.array2string(a, separator=", ", formatter={"all": lambda x: f"{x:.4g}"}, max_line_width=10**6)
    return " ".join(text.split())


def value_fields(node: Any, name: str | None, show_data: bool, show_grad: bool) -> list[str]:
    """The rows of a scalar `Value` node: its name, `data 0.5933`, `grad 0.03635` (or `grad —`)."""
    fields = [name] if name else []
    if show_data:
        fields.append(f"data {number(node.data)}")
    if show_grad:
        fields.append(f"grad {NO_GRAD if node.grad is None else number(node.grad)}")
    return fields


def tensor_fields(node: Any, name: str | None, show_data: bool, show_grad: bool) -> list[str]:
    """The rows of a `Tensor` node: name, `(2, 3) float32`, the values when small, the gradient.

    A big tensor is summarised by its norm, ‖x‖ for its values and ‖g‖ = sqrt(Σ g²) for its gradient,
    which is what tells a learner whether gradients vanish or explode.
    """
    data = node.data
    fields = [name] if name else []
    fields.append(f"{tuple(data.shape)} {data.dtype}")
    small = data.size <= MAX_SHOWN
    if show_data:
        fields.append(f"data {array(data)}" if small else f"data ‖x‖ = {number(float(np.linalg.norm(data)))}")
    if show_grad:
        grad = node.grad
        if grad is None:
            fields.append(f"grad {NO_GRAD}")
        elif small:
            fields.append(f"grad {array(np.asarray(grad))}")
        else:
            fields.append(f"grad ‖g‖ = {number(float(np.linalg.norm(grad)))}")
    return fields


def param_names(params: Any, op: str) -> dict[int, str]:
    """id(parameter) -> its name, from a Module's `named_parameters()` or a dict (`op` names the caller in errors)."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        items = params.named_parameters()
    elif isinstance(params, dict):
        items = params.items()
    else:
        raise ArgumentTypeError(
            f"{op}: params must be an nn.Module or a dict name -> parameter, not {type(params).__name__}"
        )
    return {id(p): str(name) for name, p in items}
