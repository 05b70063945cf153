"""Every exception class lives in errors.py, so one file lists all a user can catch (issue 17 item 4).

AnomalyError (anomaly.py), CheckpointError (checkpoint.py), UserFileError (check/userfile.py) and viz's
NoLayoutProgramError were defined beside their code; each is still importable from where it was.
"""

import ast

from locations import ROOT

import tinygrad_edu
from tinygrad_edu import errors

PACKAGE = ROOT / "tinygrad_edu"


def exception_classes_outside_errors_py() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [ast.unparse(base) for base in node.bases]
            if any(name.endswith(("Error", "Exception", "Warning")) for name in [node.name, *bases]):
                found.append(f"{path.relative_to(ROOT)}: {node.name}({', '.join(bases)})")
    return found


def test_no_exception_class_is_defined_outside_errors_py():
    assert exception_classes_outside_errors_py() == []


def test_the_moved_errors_are_still_where_users_import_them():
    from tinygrad_edu.anomaly import AnomalyError
    from tinygrad_edu.check import UserFileError
    from tinygrad_edu.train.checkpoint import CheckpointError
    from tinygrad_edu.viz.rendering import NoLayoutProgramError

    assert AnomalyError is tinygrad_edu.AnomalyError is errors.AnomalyError
    assert CheckpointError is tinygrad_edu.CheckpointError is errors.CheckpointError
    assert UserFileError is errors.UserFileError and issubclass(UserFileError, ValueError)
    assert issubclass(NoLayoutProgramError, errors.RenderError) and issubclass(NoLayoutProgramError, RuntimeError)
    assert issubclass(AnomalyError, RuntimeError) and issubclass(CheckpointError, ValueError)
