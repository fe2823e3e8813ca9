"""The README runs as written, and what it shows is what the code gives.

How the README shows things, and how each is checked:

- Every ```python block runs, in README order, in one fresh Python process whose working
  folder is a temporary one (files the examples write go there). A block that cannot run
  is marked by ``<!-- illustration: the reason -->`` on the line before it.
- ``expression  # -> shown`` : the line's value is shown as the REPL shows it (its
  ``repr``); what follows two spaces after the shown text is a comment.
- A ```text block right after a ```python block (prose between is fine) shows what the
  block prints.
- A ```console block holds commands, ``$ chainrule ...``; each runs in the folder the
  python blocks ran in, after them (in order: a command may read what an example or an
  earlier command wrote) and must exit 0. The
  lines under a command, if any, show what it prints. ```bash blocks are installation
  (``pip``, ``pytest``) and are not run; their ``chainrule`` commands are.
- Shown and real output are compared with these allowances: ``...`` stands for any text,
  runs of whitespace are equal, and a number matches any number that rounds to it at
  the digits shown (``0.933`` matches 0.9333...).
- Performance figures appear once, in the parts between ``<!-- results: NAME -->`` and
  ``<!-- end results -->``, which must equal what ``benchmarks/readme.py`` renders from
  the benchmarks' last recorded runs (``benchmarks/results/*.json``; the benchmarks are
  not run here). No time or speed ratio appears anywhere else.

Failures name the README line.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograd.expr import FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w*)\s*$")
SHOW = re.compile(r"#\s->\s(?P<shown>.*?)(?:\s{2,}.*)?$")
ILLUSTRATION = re.compile(r"^\s*<!-- illustration: (?P<reason>\S.*?) -->\s*$")
LANGUAGES = {"python", "text", "console", "bash"}


@dataclass
class Block:
    lang: str
    line: int  # README line of the block's first line of content
    text: str  # dedented to the fence
    illustration: str | None = None  # the reason it is not run
    output: Block | None = None  # for python: the text block showing what it prints


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text`` in order, indented ones (in a list item) included."""
    lines = text.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent = len(opening["indent"])
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        body = "\n".join(line[indent:] for line in lines[i + 1:end])
        marked = ILLUSTRATION.match(lines[i - 1]) if i else None
        blocks.append(Block(opening["lang"], i + 2, body + "\n",
                            marked["reason"] if marked else None))
        i = end + 1
    for block, following in itertools.pairwise(blocks):
        if block.lang == "python" and following.lang == "text":
            block.output = following
    return blocks


BLOCKS = readme_blocks(README.read_text())


# ---------------------------------------------------------------------------
# Comparing what is shown with what the code gives.

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TOKEN = re.compile(rf"(?P<dots>\.\.\.)|(?P<space>\s+)|(?P<number>{_NUMBER})|(?P<other>.)",
                    re.S)


def matches(shown: str, got: str) -> bool:
    """``got`` is ``shown`` with the allowances of the module docstring."""
    pattern, numbers = [], []
    for token in _TOKEN.finditer(shown.strip()):
        if token["dots"]:
            pattern.append(r".*?")
        elif token["space"]:
            pattern.append(r"\s+")
        elif token["number"]:
            pattern.append(f"({_NUMBER})")
            numbers.append(token["number"])
        else:
            pattern.append(re.escape(token["other"]))
    found = re.fullmatch("".join(pattern), got.strip(), re.S)
    return bool(found) and all(_rounds_to(float(g), s) for g, s in zip(found.groups(), numbers))


def _rounds_to(got: float, shown: str) -> bool:
    mantissa, _, exponent = shown.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    half_unit = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    return abs(got - float(shown)) <= half_unit * (1 + 1e-9)


def test_matches_follows_the_documented_allowances():
    assert matches("0.933 (42 of 45)", "0.9333333333333333 (42 of 45)")
    assert not matches("0.934", "0.9333333333333333")
    assert matches("array([[4., 2.], [2., 0.]])", "array([[4., 2.],\n       [2., 0.]])")
    assert matches("def f():\n...\n    return x", "def f():\n    a = 1\n    b = 2\n    return x")
    assert not matches("setosa", "versicolor")
    assert matches("1.5e-3", "0.00151") and not matches("1.5e-3", "0.0016")


# ---------------------------------------------------------------------------
# The python blocks, in one fresh process.

_RUNNER = r'''
import ast, contextlib, io, json, sys, traceback

spec = json.load(open(sys.argv[1]))
shown = {}
namespace = {"__name__": "__main__"}


class Show(ast.NodeTransformer):
    """`expression  # -> ...` lines record the expression's repr under their line."""

    def __init__(self, lines):
        self.lines = set(lines)

    def visit_Module(self, module):
        for i, statement in enumerate(module.body):
            if isinstance(statement, ast.Expr) and statement.end_lineno in self.lines:
                call = ast.Call(ast.Name("_readme_show_", ast.Load()),
                                [ast.Constant(statement.end_lineno), statement.value], [])
                module.body[i] = ast.copy_location(ast.Expr(call), statement)
        return module


def _readme_show_(line, value):
    shown[line] = repr(value)


namespace["_readme_show_"] = _readme_show_
results = []
for block in spec:
    printed = io.StringIO()
    result = {"line": block["line"], "error": None}
    try:
        tree = ast.parse("\n" * (block["line"] - 1) + block["code"], "README.md")
        tree = ast.fix_missing_locations(Show(block["show"]).visit(tree))
        with contextlib.redirect_stdout(printed):
            exec(compile(tree, "README.md", "exec"), namespace)
    except BaseException as error:
        lines = [f.lineno for f in traceback.extract_tb(error.__traceback__)
                 if f.filename == "README.md"]
        line = getattr(error, "lineno", None) if isinstance(error, SyntaxError) else None
        result["error"] = {"line": line or (lines[-1] if lines else block["line"]),
                           "message": traceback.format_exception_only(error)[-1].strip()}
    result["printed"] = printed.getvalue()
    results.append(result)
    if result["error"]:
        break
json.dump({"blocks": results, "shown": shown}, open(sys.argv[2], "w"))
'''


def _environment() -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _needs_graphviz() -> None:
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's dot is missing: the README's drawing examples need it")
        pytest.skip("the README's drawing examples need Graphviz (apt-get install graphviz)")


def _shown_lines(block: Block) -> dict[int, str]:
    """{README line: shown text} of the block's `# ->` lines."""
    found = {}
    for offset, line in enumerate(block.text.split("\n")):
        comment = SHOW.search(line)
        if comment:
            found[block.line + offset] = comment["shown"]
    return found


@pytest.fixture(scope="module")
def python_run(tmp_path_factory):
    _needs_graphviz()
    folder = tmp_path_factory.mktemp("readme")
    runnable = [b for b in BLOCKS if b.lang == "python" and not b.illustration]
    spec = [{"line": b.line, "code": b.text, "show": list(_shown_lines(b))} for b in runnable]
    (folder / "blocks.json").write_text(json.dumps(spec))
    (folder / "runner.py").write_text(_RUNNER)
    completed = subprocess.run(
        [sys.executable, "runner.py", "blocks.json", "results.json"], cwd=folder,
        env=_environment(), capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return runnable, json.loads((folder / "results.json").read_text()), folder


def test_every_python_block_runs(python_run):
    runnable, results, _ = python_run
    for result in results["blocks"]:
        error = result["error"]
        assert error is None, f"README.md:{error['line']}: {error['message']}"
    assert len(results["blocks"]) == len(runnable)


def test_every_shown_value_is_the_real_one(python_run):
    runnable, results, _ = python_run
    wrong = []
    for block in runnable[:len(results["blocks"])]:  # after an error, nothing more ran
        for line, shown in _shown_lines(block).items():
            got = results["shown"].get(str(line))
            if got is None:
                wrong.append(f"README.md:{line}: `# ->` must follow an expression statement "
                             "at the top level of its block")
            elif not matches(shown, got):
                wrong.append(f"README.md:{line}: shows {shown}, the code gives {got}")
    assert not wrong, "\n".join(wrong)


def test_every_shown_output_is_what_the_block_prints(python_run):
    runnable, results, _ = python_run
    wrong = []
    for block, result in zip(runnable, results["blocks"]):
        if block.output is not None and not matches(block.output.text, result["printed"]):
            wrong.append(f"README.md:{block.output.line}: the output shown differs from what "
                         f"the block at line {block.line} prints:\n{result['printed']}")
    assert not wrong, "\n".join(wrong)


def test_every_block_is_run_or_says_why_not():
    for block in BLOCKS:
        assert block.lang in LANGUAGES, (
            f"README.md:{block.line - 1}: a block needs one of the languages {sorted(LANGUAGES)}")
        if block.lang == "text":
            assert any(b.output is block for b in BLOCKS) or block.illustration, (
                f"README.md:{block.line - 1}: a text block shows a python block's output, so "
                "it follows one; else mark it <!-- illustration: why -->")
    marked = [b for b in BLOCKS if b.illustration]
    assert len(marked) <= 3, [f"README.md:{b.line - 1}" for b in marked]


# ---------------------------------------------------------------------------
# The commands.


def _commands() -> list[tuple[int, str, str | None]]:
    """(README line, command, the output shown under it or None) for every command."""
    commands: list[tuple[int, str, str | None]] = []
    for block in BLOCKS:
        lines = block.text.rstrip("\n").split("\n")
        if block.lang == "bash":
            commands += [(block.line + i, line, None) for i, line in enumerate(lines)
                         if line.startswith("chainrule ")]
        elif block.lang == "console":
            for i, line in enumerate(lines):
                if line.startswith("$ "):
                    commands.append((block.line + i, line[2:], []))
                else:
                    assert commands and commands[-1][2] is not None, (
                        f"README.md:{block.line + i}: output before any `$ ` command")
                    commands[-1][2].append(line)
    return [(line, command, "\n".join(shown) if shown else None)
            for line, command, shown in commands]


def test_the_commands_run_and_print_what_is_shown(python_run):
    """The commands run where the python blocks ran, after them: a reader's folder (a
    command may use a file an example wrote)."""
    tmp_path = python_run[2]
    commands = _commands()
    assert any(command.startswith("chainrule graph") for _, command, _ in commands)
    assert any(command.startswith("chainrule predict") for _, command, _ in commands)
    for line, command, shown in commands:
        completed = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=_environment(),
                                   capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, (
            f"README.md:{line}: `{command}` exited {completed.returncode}:\n"
            f"{completed.stderr[-2000:]}")
        if shown is not None:
            assert matches(shown, completed.stdout), (
                f"README.md:{line}: `{command}` printed\n{completed.stdout}")


def test_the_graph_commands_functions_are_the_parsers():
    text = README.read_text()
    section = text.split("`chainrule graph`", 1)[1].split("\n## ", 1)[0]
    listed = re.search(r"`((?:exp|log) [a-z0-9\s]+)`", section[section.index("allow-list"):])
    assert listed, "the chainrule graph section lists its functions after 'allow-list'"
    assert listed[1].split() == list(FUNCTIONS)


# ---------------------------------------------------------------------------
# The performance figures.


def _readme_renderer():
    spec = importlib.util.spec_from_file_location("benchmark_readme",
                                                  ROOT / "benchmarks" / "readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


renderer = _readme_renderer()
FIGURE = re.compile(r"\d[\d,]*(?:\.\d+)?(?:\s?(?:µs|ms|ns|s)\b|x\b)")


def test_recorded_parts_equal_the_last_recorded_runs():
    text = README.read_text()
    found = renderer.parts(text)
    assert sorted(name for name, _, _ in found) == sorted(renderer.PARTS)
    for name, line, body in found:
        expected = renderer.PARTS[name]()
        assert body == expected, (
            f"README.md:{line}: the part '{name}' is not the last recorded run; "
            f"python benchmarks/readme.py --update writes it:\n{expected}")


def test_no_time_or_ratio_outside_the_recorded_parts():
    text = renderer.PART.sub(lambda m: "\n" * m[0].count("\n"), README.read_text())
    strays = [f"README.md:{text.count(chr(10), 0, m.start()) + 1}: {m[0]}"
              for m in FIGURE.finditer(text)]
    assert not strays, "figures belong in a recorded part:\n" + "\n".join(strays)
