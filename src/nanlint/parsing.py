"""Parsing a file with libcst without letting a hostile file crash or hang nanlint.

libcst's native parser recurses on the C stack: a deeply nested expression overflows it and
kills the process (SIGSEGV), which no `except` can catch, and long operator chains make it
run for minutes. So Python's own parser reads the file first: it rejects such nesting
quickly and cleanly, and its tree tells how deep libcst would have to go (`a and b and ...`
and dotted import names are flat for Python but nested for libcst). libcst then parses only
files within MAX_DEPTH, on a thread whose stack is large enough for that depth everywhere
(a main thread's stack is 1 to 8 MB depending on the platform).

libcst also needs about 600 bytes of memory and 10 microseconds per character of source: a
5 MB generated file would take 3 GB and minutes, so files beyond MAX_CHARACTERS are skipped.

A file is Python code when the Python running nanlint can compile it, so the syntax errors
reported are Python's, with its messages and positions.
"""

from __future__ import annotations

import ast
import warnings

import libcst as cst

from nanlint.positions import line_starts
from nanlint.stack import on_large_stack

# Real code nests 20 to 60 levels and stays well under a megabyte per file (the largest file
# of transformers has 210,000 characters); generated code beyond that is not worth analysing.
MAX_DEPTH = 1000
MAX_CHARACTERS = 1_000_000
# libcst needs up to about 2.4 KB of stack per level (measured: nested lambdas).
_STACK_BYTES = 64 * 1024 * 1024
# An upper bound of the levels one character of source adds (`f()()`: two per call and
# argument-less; the wrappers without characters of their own, such as an expression
# statement around a call, are bounded too).
_LEVELS_PER_CHARACTER = 4


class TooComplex(Exception):
    """The file is too large or nests too deeply to parse safely (where, when Python knows)."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.line = line
        self.column = column


def parse_module(text: str) -> cst.Module:
    """The libcst tree of `text`.

    Raises SyntaxError (Python's, when Python cannot parse the file), TooComplex, or
    libcst.ParserSyntaxError (when Python can and libcst cannot).
    """
    if len(text) > MAX_CHARACTERS:
        raise TooComplex(
            f"the file has {len(text):,} characters (nanlint analyses up to {MAX_CHARACTERS:,})"
        )
    depth, node = _deepest(_python_tree(text), text)
    if depth > MAX_DEPTH:
        message = f"the code nests {depth} levels deep (nanlint analyses up to {MAX_DEPTH})"
        raise TooComplex(message, *_node_position(text, node))
    return on_large_stack(cst.parse_module, text, stack_bytes=_STACK_BYTES)


def _python_tree(text: str) -> ast.Module:
    null = text.find("\0")
    if null >= 0:
        line, column = _position(text, null)
        raise SyntaxError("source code cannot contain null bytes", ("", line, column, ""))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            return ast.parse(text)
    except (RecursionError, MemoryError) as error:
        raise TooComplex("the code nests too deeply for Python's parser") from error


def _deepest(tree: ast.AST, text: str) -> tuple[int, ast.AST]:
    """How deeply libcst's tree would nest, measured on Python's, and the innermost
    statement or expression at that depth (exact when beyond MAX_DEPTH).

    A node cannot nest deeper below it than _LEVELS_PER_CHARACTER times its characters, so
    the subtrees that cannot reach MAX_DEPTH (almost every statement) are not walked.
    """
    starts = line_starts(text)
    starts.append(len(text))
    deepest: tuple[int, ast.AST] = (0, tree)
    pending: list[tuple[ast.AST, int, ast.AST]] = [(tree, 1, tree)]
    while pending:
        node, depth, located = pending.pop()
        depth += _flat_chain(node)
        if isinstance(node, (ast.stmt, ast.expr)):
            located = node
            last = min(node.end_lineno or len(starts) - 1, len(starts) - 1)
            characters = starts[last] - starts[node.lineno - 1]
            if depth + _LEVELS_PER_CHARACTER * characters <= MAX_DEPTH:
                continue
        if depth > deepest[0]:
            deepest = (depth, located)
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                pending.append((value, depth + 1, located))
            elif isinstance(value, list):
                pending.extend(
                    (item, depth + 1, located) for item in value if isinstance(item, ast.AST)
                )
    return deepest


def _flat_chain(node: ast.AST) -> int:
    """Levels that libcst nests and Python keeps in one node."""
    if isinstance(node, ast.BoolOp):
        return len(node.values) - 2
    if isinstance(node, ast.alias):
        return node.name.count(".")
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").count(".")
    return 0


def _node_position(text: str, node: ast.AST) -> tuple[int, int]:
    """The 1-based line and character column of a node (Python counts UTF-8 bytes)."""
    if not hasattr(node, "lineno"):  # the module itself
        return 1, 1
    line_start = line_starts(text)[node.lineno - 1]
    prefix = text[line_start:].encode("utf-8")[: node.col_offset]
    return node.lineno, len(prefix.decode("utf-8", errors="ignore")) + 1


def _position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of an offset in `text`."""
    starts = line_starts(text[:offset])
    return len(starts), offset - starts[-1] + 1
