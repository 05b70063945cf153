"""Matrix products in the memory layout BLAS is fastest with, where it rounds to the very same bits.

A Linear layer computes `x @ W.T` with both stored row by row. OpenBLAS (0.3.31 on this box) takes
that product at about half the speed it takes the same numbers with `x` stored column by column: for
the digits MLP, 9.1 µs against 4.9 µs for 32x64 @ 64x128, where copying `x` costs 0.9 µs. Whether the
two give the same bits depends on the library and the shapes (here 32x64 @ 64x10 does not), so
`same_bits` tries both on random numbers of the product's shapes and dtype, and `faster` times them;
`choose` then copies the left operand into a column-major buffer of its own (`np.copyto`) before
each product where the bits agree and the copy pays. A compiler's choice, as its buffers are: the
eager engine and the formulas stay as they are.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from .code import Code
from .tape import Stmt, Storage, Text, Var

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def choose(items: list[Stmt | Text], code: Code, supplied: set[Storage]) -> None:
    """Before each product `a @ b` (a row by row, b column by column: `W.T` of a row-major W) that rounds alike
    and runs faster with `a` column by column, copy `a` into such a buffer and multiply that. `supplied`: the
    storages of memory the caller hands in at each call (arguments, tensors read afresh)."""
    for i in range(len(items) - 1, -1, -1):  # (backwards: an inserted line does not move those still to see)
        item = items[i]
        if not _candidate(item, supplied):
            continue
        a, b = item.args
        (m, k), n = a.shape, b.shape[1]
        if not (faster(m, k, n, a.dtype.str) and same_bits(m, k, n, a.dtype.str)):  # (faster: the quicker no)
            continue
        buffer = np.empty(a.shape, a.dtype, order="F")
        columns = Var(code.ref(buffer, f"{a.name}_cols"), Storage("external"), buffer)
        copy = Stmt("call", "np.copyto", [columns, a], {})
        copy.writes, copy.indent = columns, item.indent
        copy.comment = f"{a.name}, column by column: BLAS's product is faster so, to the same bits (tried when traced)"
        item.args = [columns, b]
        items.insert(i, copy)


def _candidate(item: Stmt | Text, supplied: set[Storage]) -> bool:
    """`np.matmul(a, b)` of two float matrices, `a` row by row and `b` column by column, laid out so at every
    replay as they were when traced; never one memory seen twice (`x @ x.T`, two parameters on one array),
    which NumPy gives to BLAS's syrk, where a copy of x would not go. Two operands the caller hands in
    (`fn(x, x)` traced as `fn(x, y)`) could be one memory at a later call, so one must be the step's own."""
    if type(item) is not Stmt or item.form != "call" or item.func != "np.matmul" or item.kwargs:
        return False
    if len(item.args) != 2 or not all(type(v) is Var and len(v.shape) == 2 for v in item.args):
        return False
    a, b = item.args
    if a.dtype != b.dtype or a.dtype not in _FLOATS or min(a.shape) < 2 or min(b.shape) < 2:
        return False
    if a.storage is b.storage or (a.storage in supplied and b.storage in supplied):
        return False
    arrays = a.storage.array, b.storage.array  # (two tensors on one memory: tied weights)
    if arrays[0] is not None and arrays[1] is not None and np.may_share_memory(*arrays):
        return False
    if a.storage.fixed and b.storage.fixed:  # (a product of constants: made once, at trace time)
        return False
    return a.order == "C" and b.order == "F" and _kept(a) and _kept(b)


def _kept(var: Var) -> bool:
    """Whether `var` lies in memory at each replay as it did at trace time: an argument, a tensor read afresh,
    a parameter or a constant (the signature and the guard hold their layouts), or a value the step makes from
    an array that was row by row (a buffer is row by row; a call the replay makes again lays its result out as it
    did then, from operands laid out as then)."""
    storage = var.storage
    if storage.kind == "external":
        return True
    return storage.root is not None and storage.root.result is not None and storage.root.result.order == "C"


@functools.lru_cache(maxsize=256)
def same_bits(m: int, k: int, n: int, dtype: str) -> bool:
    """Whether `a @ w.T` (a: m x k, w: n x k, both row by row) gives the same bits with `a` column by column.

    Products summed in another order round differently on a good part of the m*n numbers: random numbers
    drawn often enough for 256 of them make equal bits by chance out of the question."""
    rng = np.random.Generator(np.random.PCG64(0))  # (its own generator: the trace refuses the global ones)
    for _ in range(min(8, -(-256 // (m * n)))):
        a, w = rng.random((m, k), dtype=dtype), rng.random((n, k), dtype=dtype)
        if np.matmul(a, w.T).tobytes() != np.matmul(np.asfortranarray(a), w.T).tobytes():
            return False
    return True


@functools.lru_cache(maxsize=256)
def faster(m: int, k: int, n: int, dtype: str) -> bool:
    """Whether copying `a` column by column and then multiplying is clearly faster than `a @ w.T` as it lies
    (best of 3 each, ~0.1 ms at 32x64x128; OpenBLAS gains in a band of shapes, 16-64 rows by 64-256)."""
    a, w = np.ones((m, k), dtype), np.ones((n, k), dtype)
    columns, out = np.asfortranarray(a), np.empty((m, n), dtype)
    rows_time = columns_time = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        np.matmul(a, w.T, out=out)
        middle = time.perf_counter()
        np.copyto(columns, a)
        np.matmul(columns, w.T, out=out)
        end = time.perf_counter()
        rows_time, columns_time = min(rows_time, middle - start), min(columns_time, end - middle)
    return columns_time < 0.8 * rows_time
