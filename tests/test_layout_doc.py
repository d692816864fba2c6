"""The README's Layout section and docs/architecture.md describe the tree as it is: every
package has its entry, every module is named in its package's entry, and every folder an
entry names exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("yolact", "engines", "pipeline")


def _layout_entries() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout\n", 1)[1]
    block = section.split("```", 2)[1]
    entries: dict[str, str] = {}
    label = None
    for line in block.splitlines():
        if line and not line[0].isspace():
            label, _, text = line.partition(" ")
            entries[label] = text
        elif label is not None:
            entries[label] += " " + line.strip()
    return entries


def _packages() -> dict[str, list[str]]:
    """Folder (as 'pipeline/sources/') → the module names in it."""
    found = {}
    for package in PACKAGES:
        for folder in [ROOT / package, *(ROOT / package).rglob("*")]:
            if folder.is_dir() and (folder / "__init__.py").exists():
                modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
                found[folder.relative_to(ROOT).as_posix() + "/"] = modules
    return found


def test_every_package_and_module_is_in_the_layout():
    entries = _layout_entries()
    missing = []
    for folder, modules in _packages().items():
        if folder not in entries:
            missing.append(f"{folder} (no entry)")
            continue
        words = set(re.findall(r"[\w.]+", entries[folder]))
        missing += [f"{folder}{module}" for module in modules if module not in words]
    assert not missing, f"README Layout does not name: {missing}"


def test_every_folder_the_layout_names_exists():
    for label in _layout_entries():
        assert (ROOT / label).is_dir(), f"README Layout names {label}, which is not in the tree"


def test_architecture_doc_names_every_package():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    absent = [folder for folder in _packages() if f"`{folder}`" not in text]
    assert not absent, f"docs/architecture.md does not name {absent}"


def test_every_repository_path_the_docs_name_exists():
    named = set()
    for doc in ("README.md", "docs/architecture.md", "benchmarks/README.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        named |= set(
            re.findall(r"`((?:yolact|engines|pipeline|tests|benchmarks|configs|assets|docs)/[\w./-]*)`", text)
        )
    made_by_runs = ("benchmarks/.cache/",)  # written by the benchmarks, ignored by git
    absent = sorted(
        path for path in named if "<" not in path and path not in made_by_runs and not (ROOT / path).exists()
    )
    assert not absent, f"the docs name paths that are not in the tree: {absent}"
