"""The README's run command, executed as a learner would: in a fresh git clone, in a real shell, offline.

What is executed is the README's line with its set-up steps left out: the segments of its `&&` chain that
create the virtual environment or install into it are dropped, and `.venv/bin/` is replaced by the folder of
the Python running the tests, whose environment already has requirements.txt installed (creating one would
need the package index). The clone is made of the repository as it is on disk (its tracked and untracked
files, less the ignored ones, committed in the clone), so that the tests check what the next commit holds;
in CI the two are the same.
"""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

README_LINE_MARK = "papermill neural_network_from_scratch.ipynb runs/"   # how the README's run command is found
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


def readme_command(repo_root, extra_parameters=None):
    """The README's run command without its venv and pip steps, with this Python's bin folder for .venv/bin/.
    extra_parameters: {notebook file name: "-p NAME VALUE ..."} appended to the papermill step that runs it."""
    lines = [line for line in (repo_root / "README.md").read_text(encoding="utf-8").splitlines()
             if README_LINE_MARK in line]
    assert lines, f"README.md has no line with `{README_LINE_MARK}`: the command to run the notebook"
    steps = [step.strip() for step in lines[0].strip().strip("`").removeprefix("$ ").split("&&")]
    kept = [step for step in steps if "-m venv" not in step and "pip install" not in step]
    for name, parameters in (extra_parameters or {}).items():
        [index] = [i for i, step in enumerate(kept) if step.split()[:2] == [".venv/bin/papermill", name]]
        kept[index] += f" {parameters}"
    return " && ".join(kept).replace(".venv/bin/", f"{Path(sys.executable).parent}/")


def git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=test", "-c", "user.email=test@invalid",
                           *args], check=True, capture_output=True, text=True).stdout


def clone_as_on_disk(repo_root, destination):
    """A git clone of the repository holding its files as they are on disk now, committed."""
    subprocess.run(["git", "clone", "--quiet", str(repo_root), str(destination)], check=True)
    listed = git(repo_root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, listed):
        source, target = repo_root / name, destination / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.is_file():
            target.unlink()                           # deleted on disk, not yet in a commit
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--allow-empty", "--message", "as on disk")
    assert git(destination, "status", "--porcelain") == ""
    return destination


def closed_port():
    with socket.socket() as listener:                # bound, then closed: nothing listens there now
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def offline_environment(**changes):
    """This environment with every proxy and the MNIST mirror on closed ports of 127.0.0.1, and no data folder."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("MNIST_DATA_DIR", "NO_PROXY", "no_proxy")}
    environment.update({key: "http://127.0.0.1:9" for key in PROXY_VARIABLES})
    environment["MNIST_MIRROR"] = f"http://127.0.0.1:{closed_port()}/"
    return dict(environment, **changes)


def run_in_shell(command, folder, environment, timeout):
    return subprocess.run(command, shell=True, cwd=folder, env=environment, capture_output=True, text=True,
                          timeout=timeout)
