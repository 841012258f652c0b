"""The layout the product owner fixed, the dependency rule, and the top-level name guard."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata as metadata
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = ("app", "audio", "models", "ui", "plugins", "server")
OUR_DISTRIBUTION = "hookline"


def top_level_names(dist: metadata.Distribution) -> set[str]:
    """The importable top-level names a distribution installs."""
    text = dist.read_text("top_level.txt")
    names = {line.strip() for line in (text or "").splitlines() if line.strip()}
    for file in dist.files or ():
        parts = file.parts
        if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] == "..":
            continue
        first = parts[0]
        if len(parts) > 1:
            names.add(first)
        elif first.endswith(".py"):
            names.add(first[:-3])
        elif first.endswith((".so", ".pyd")):
            names.add(first.split(".")[0])
    return names


def colliding_distributions(dists: list[metadata.Distribution]) -> dict[str, set[str]]:
    clashes: dict[str, set[str]] = {}
    for dist in dists:
        name = (dist.metadata["Name"] or "").lower()
        if name == OUR_DISTRIBUTION:
            continue
        hit = top_level_names(dist) & set(OUR_PACKAGES)
        if hit:
            clashes[name] = hit
    return clashes


def test_layout_is_as_fixed() -> None:
    for folder in (
        *OUR_PACKAGES,
        "resources",
        "translations",
        "tests",
        "packaging",
        "benchmarks",
        ".ci",
    ):
        assert (REPO_ROOT / folder).is_dir(), folder
    for package in OUR_PACKAGES:
        assert (REPO_ROOT / package / "__init__.py").is_file(), package
        module = importlib.import_module(package)
        assert Path(module.__file__ or "").resolve().parent == REPO_ROOT / package
    assert (REPO_ROOT / "pyproject.toml").is_file()


def test_no_other_distribution_provides_our_top_level_names() -> None:
    clashes = colliding_distributions(list(metadata.distributions()))
    assert clashes == {}, f"installed distributions shadow Hookline's packages: {clashes}"


def test_the_guard_catches_a_colliding_distribution(tmp_path: Path) -> None:
    info = tmp_path / "evil_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evil-pkg\nVersion: 1.0\n")
    (info / "RECORD").write_text("models/__init__.py,,\nevil_pkg-1.0.dist-info/METADATA,,\n")
    # The listed file exists, as in a real install: once keyring is imported, the
    # importlib_metadata backport answers distributions() and lists only files that exist.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    dists = list(metadata.distributions(path=[str(tmp_path)]))
    assert colliding_distributions(dists) == {"evil-pkg": {"models"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _sources(package: str) -> list[Path]:
    return sorted((REPO_ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["audio", "models", "plugins", "server"])
def test_cores_import_no_qt(package: str) -> None:
    for path in _sources(package):
        qt = {m for m in _imports(path) if m.split(".")[0] in {"PySide6", "pyqtgraph", "ui"}}
        assert not qt, f"{path.relative_to(REPO_ROOT)} imports {qt}"


def test_only_ui_imports_widgets_and_nothing_imports_ui() -> None:
    for package in ("app", "audio", "models", "plugins", "server"):
        for path in _sources(package):
            bad = {
                m
                for m in _imports(path)
                if m.split(".")[0] in {"ui", "pyqtgraph"}
                or m.startswith(("PySide6.QtWidgets", "PySide6.QtGui"))
            }
            assert not bad, f"{path.relative_to(REPO_ROOT)} imports {bad}"


def test_ui_reaches_audio_and_models_only_through_app() -> None:
    for path in _sources("ui"):
        bad = {m for m in _imports(path) if m.split(".")[0] in {"audio", "models", "server"}}
        assert not bad, f"{path.relative_to(REPO_ROOT)} imports {bad}"


def test_torch_is_never_a_runtime_import() -> None:
    for package in OUR_PACKAGES:
        for path in _sources(package):
            if "training" in path.parts:
                continue
            assert "torch" not in {m.split(".")[0] for m in _imports(path)}, path
