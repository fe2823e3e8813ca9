"""The README's promises: its Quickstart commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)


def test_quickstart_has_exactly_two_commands():
    commands = quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = quickstart_commands()[1]
    assert "pytest" in test_command
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_quickstart_main_job_is_chainrule_train():
    main_job = quickstart_commands()[0]
    assert main_job.startswith("pip install -e . && ") and main_job.endswith("chainrule train")


def test_readme_pictures_and_links_exist():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(((?:docs|notebooks)/[^)]+)\)", readme)
    assert any(t.endswith(".png") for t in targets)
    assert sum(t.endswith(".ipynb") for t in targets) == 7
    for target in targets:
        assert (ROOT / target).exists(), target
