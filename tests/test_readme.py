"""The README's example runs as written, its commands are what CI runs, and CI fails when any step fails."""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"
SETUP = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/staffbridge demo"
STEPS = ("pip", "ruff check", "ruff format", "mypy", "lint-imports", "python -m pytest")


def sh_blocks() -> list[list[str]]:
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", README.read_text("utf-8"), re.S)]


def ci_commands() -> list[str]:
    """.ci/run's commands after it clears the old environment: what the README must say CI runs."""
    lines = [line.strip() for line in CI.read_text("utf-8").splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    return commands[commands.index("rm -rf .venv") + 1 :]


def test_readme_example_runs(capsys):
    example = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.count("\n") > 200 and "@example.com" in printed


def test_the_readme_test_commands_are_exactly_what_ci_runs():
    blocks = sh_blocks()
    assert [SETUP] in blocks
    assert ci_commands() in blocks, f".ci/run runs {ci_commands()}; the README shows {blocks}"
    assert ci_commands()[0].startswith("python3 -m venv .venv && ") and ci_commands()[-1].endswith("-m pytest")


def test_paths_the_readme_names_exist():
    named = set(re.findall(r"(?<![\w/])((?:tests/bench|\.ci)/[\w./]+\.(?:py|txt))", README.read_text("utf-8")))
    assert named >= {".ci/constraints.txt", "tests/bench/run.py", "tests/bench/startup.py"}
    assert sorted(path for path in named if not (ROOT / path).is_file()) == []


FAKE_PYTHON3 = """#!/bin/sh
# stands in for python3: `python3 -m venv .venv` makes a .venv whose tools log their call and fail on demand
mkdir -p .venv/bin
for tool in pip ruff mypy lint-imports python; do
  cat > .venv/bin/$tool <<'TOOL'
#!/bin/sh
step="$(basename "$0") $*"
echo "$step" >> "$CI_LOG"
case "$step" in "$CI_FAIL"*) exit 3;; esac
exit 0
TOOL
  chmod +x .venv/bin/$tool
done
"""


def run_ci(tmp_path: Path, fail: str) -> tuple[int, list[str]]:
    project = tmp_path / f"project-{len(list(tmp_path.iterdir()))}"
    (project / ".ci").mkdir(parents=True)
    shutil.copy(CI, project / ".ci" / "run")
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    (tools / "python3").write_text(FAKE_PYTHON3)
    (tools / "python3").chmod((tools / "python3").stat().st_mode | stat.S_IEXEC)
    log = project / "calls.log"
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", "CI_LOG": str(log), "CI_FAIL": fail}
    done = subprocess.run(["bash", str(project / ".ci" / "run")], env=env, capture_output=True, timeout=60)
    return done.returncode, log.read_text().splitlines() if log.exists() else []


@pytest.mark.skipif(sys.platform == "win32", reason=".ci/run is a bash script")
def test_ci_runs_every_step_in_order_and_fails_when_any_fails(tmp_path):
    code, calls = run_ci(tmp_path, fail="(none)")
    assert code == 0 and [next(s for s in STEPS if call.startswith(s)) for call in calls] == list(STEPS)
    for position, step in enumerate(STEPS):
        code, calls = run_ci(tmp_path, fail=step)
        assert code != 0, f".ci/run passed although `{step}` failed"
        assert len(calls) == position + 1 and calls[-1].startswith(step)  # and nothing ran after it
