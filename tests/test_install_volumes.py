"""Data and log folders the app cannot write: the container's entrypoint gives them to the
app's user or stops with a message; `--once` says so in Portuguese and exits non-zero,
never with a traceback.

The entrypoint runs here as it runs in the image, as root (or as an unprivileged user:
uid 10001, the image's), against root-owned folders and writable ones. "Not writable" is
made real without a container: a folder owned by another user for a process without
`CAP_DAC_OVERRIDE` (`setpriv`), and a read-only bind mount in a private mount namespace
(`unshare -m`). Needs root, `setpriv` and `unshare` (util-linux); skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
APP_UID = 10001
NO_OVERRIDE = "-dac_override,-dac_read_search,-fowner"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None or shutil.which("unshare") is None,
    reason="precisa de root, setpriv e unshare (util-linux) para tornar uma pasta não gravável de verdade",
)


@pytest.fixture
def install() -> Iterator[Path]:
    """A folder others can enter (pytest's own tmp is root-only), with root-owned data/ and logs/."""
    folder = Path(tempfile.mkdtemp(prefix="instalacao-"))
    folder.chmod(0o755)
    for name in ("data", "logs"):
        (folder / name).mkdir(mode=0o755)
    (folder / "data" / "monitor_events.db").write_bytes(b"")
    yield folder
    shutil.rmtree(folder)


def entrypoint(folder: Path, *command: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MONITOR_UID": str(APP_UID)}
    return subprocess.run(
        [*prefix, "sh", str(ENTRYPOINT), *command],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def as_app_user() -> tuple[str, ...]:
    return ("setpriv", f"--reuid={APP_UID}", f"--regid={APP_UID}", "--clear-groups", "--")


def read_only(folder: Path) -> tuple[str, ...]:
    """Run the rest with `folder` mounted read-only, in a mount namespace of its own."""
    script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"'
    return ("unshare", "-m", "sh", "-c", script, "sh", str(folder))


def owner(path: Path) -> int:
    return path.stat().st_uid


def test_the_entrypoint_gives_root_owned_folders_to_the_apps_user_and_runs_as_it(install: Path) -> None:
    run = entrypoint(install, "sh", "-c", "id -u > data/quem && touch logs/monitor_service.log")
    assert run.returncode == 0, run.stderr
    assert (install / "data" / "quem").read_text().strip() == str(APP_UID)
    assert {
        owner(install / "data"),
        owner(install / "logs"),
        owner(install / "data" / "monitor_events.db"),
    } == {APP_UID}


def test_the_entrypoint_leaves_folders_the_app_already_owns_and_runs_at_once(install: Path) -> None:
    for path in (install / "data", install / "logs", install / "data" / "monitor_events.db"):
        os.chown(path, APP_UID, APP_UID)
    run = entrypoint(install, "sh", "-c", "id -u")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(APP_UID)


def test_the_entrypoint_started_as_the_app_user_refuses_a_root_owned_folder_saying_what_to_do(
    install: Path,
) -> None:
    run = entrypoint(install, "sh", "-c", "echo rodou", prefix=as_app_user())
    assert run.returncode == 1
    assert "rodou" not in run.stdout
    assert (
        "não consegue gravar em data" in run.stderr and f"chown -R {APP_UID}:{APP_UID} ./data" in run.stderr
    )


def test_the_entrypoint_stops_on_a_read_only_data_folder(install: Path) -> None:
    for path in (install / "data", install / "logs", install / "data" / "monitor_events.db"):
        os.chown(path, APP_UID, APP_UID)
    run = entrypoint(install, "sh", "-c", "echo rodou", prefix=read_only(install / "data"))
    assert run.returncode == 1
    assert "rodou" not in run.stdout and "somente leitura" in run.stderr


def once(folder: Path, prefix: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "IXC_URL": "http://127.0.0.1:9",
        "IXC_TOKEN": "8:abc",
        "SECRET_KEY": "s" * 40,
        "DATABASE_PATH": "data/monitor_events.db",
        "LOG_DIR": "logs",
    }
    return subprocess.run(
        [*prefix, sys.executable, str(ROOT / "monitor_service.py"), "--once"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_once_on_a_data_folder_owned_by_another_user_says_so_without_a_traceback(install: Path) -> None:
    os.chown(install / "data", APP_UID, APP_UID)
    no_override = ("setpriv", f"--inh-caps={NO_OVERRIDE}", f"--bounding-set={NO_OVERRIDE}", "--")
    run = once(install, no_override)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr + run.stdout
    assert "O banco de dados data/monitor_events.db não pode ser gravado" in run.stderr
    assert "chown -R" in run.stderr


def test_once_on_a_read_only_data_folder_says_so_without_a_traceback(install: Path) -> None:
    run = once(install, read_only(install / "data"))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr + run.stdout
    assert "somente leitura" in run.stderr
