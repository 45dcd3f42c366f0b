"""Imports run one way, down the pipeline's rooms: extraction (pure) is the base; storage (warehouse)
knows only itself; the harvest (crawler) extracts and stages; classification reads storage; the
outputs read classification and storage; the orchestration (pipeline) runs them all; the CLI sits
on top. Inside classification, the taxonomy (rules, engine, dossier) never imports the machinery
that runs it at scale (planner, chunks, shapes, fill, workers). No two modules import each other,
however far round. The Hub emulator models the services and imports nothing of ours but the card YAML limits
it shares with the harvest. A test walks every import, function-level ones included, and every
import of ours goes through the one installed name, openness.*."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("extractors", "warehouse", "crawler", "classification", "outputs", "pipeline", "emulator", "cli")
# what each room may import of ours
# (the first prefix a module has decides: a room's sub-rooms before the room); every room may
# import the root of our errors, openness.errors, and its owned temporary folders, openness.scratch
ALLOWED = {
    "extractors": ("extractors", "errors"),
    "warehouse": ("warehouse", "errors"),
    "crawler": ("extractors", "warehouse", "crawler", "errors"),
    # the taxonomy (what a verdict is) never reads the machinery that runs it at scale
    "classification.taxonomy": ("extractors", "warehouse", "classification.taxonomy", "classification.errors",
                                "errors"),
    "classification": ("extractors", "warehouse", "classification", "errors"),
    "outputs": ("extractors", "warehouse", "classification", "outputs", "errors", "scratch"),
    "emulator": ("emulator", "extractors.card_yaml", "errors"),
    "pipeline": ("extractors", "warehouse", "crawler", "classification", "outputs", "emulator", "pipeline", "errors",
                 "scratch"),
    "cli": OURS + ("errors",),
}


ROOTS = ("openness",) + OURS


def imports_of(path: Path) -> list[str]:
    """Our modules a file imports, without the openness. prefix; a bare room name stays bare."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [name for name in found if name.split(".")[0] in ROOTS]


def rule_for(module: str) -> tuple[str, ...]:
    return next(allowed for prefix, allowed in ALLOWED.items() if module == prefix or module.startswith(prefix + "."))


def project_modules():
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "sample" not in path.relative_to(ROOT).parts:  # the emulator's sample world: data
                yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def test_no_module_imports_a_later_pipeline_step():
    upward = []
    checked = 0
    for module, path in project_modules():
        allowed = rule_for(module)
        for name in imports_of(path):
            checked += 1
            name = name.removeprefix("openness.")
            if not any(name == a or name.startswith(a + ".") for a in allowed):
                upward.append(f"{module} imports {name}")
    assert checked > 200 and upward == []


def test_every_import_of_ours_goes_through_the_openness_name():
    """A bare `import crawler...` works from the project folder only, and would load a second copy
    of a module beside openness.crawler's."""
    files = [path for _, path in project_modules()]
    files += sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    bare = [f"{path.relative_to(ROOT)} imports {name}" for path in files for name in imports_of(path)
            if not (name == "openness" or name.startswith("openness."))]
    assert bare == []


def test_every_python_m_names_the_openness_package():
    """`python -m cli` ran from the project folder only; installed, the command is `python -m openness`."""
    rooms = "|".join(OURS)
    pattern = re.compile(rf"""["']-m["'],\s*["']({rooms})\b""")
    files = [path for _, path in project_modules()]
    files += sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    assert [str(path.relative_to(ROOT)) for path in files if pattern.search(path.read_text("utf-8"))] == []


def test_every_dotted_name_in_a_string_goes_through_the_openness_name():
    """Scrapy loads its components from dotted names in settings: a bare `crawler.pipelines...`
    loads only when the process runs from the project folder."""
    rooms = "|".join(OURS)
    pattern = re.compile(rf"""["'](?:{rooms})\.[a-z_]+(?:\.[A-Za-z_]+)*["']""")
    found = [f"{path.relative_to(ROOT)}: {match}" for _, path in project_modules()
             for match in pattern.findall(path.read_text("utf-8")) if not match.strip("\"'").endswith((".py", ".yml"))]
    assert found == []


def test_no_import_circle():
    """Modules that import each other (function-level imports too) cannot be read, tested or
    loaded one without the other: a circle is a room that should be one module, or a third one."""
    graph = {module: {name.removeprefix("openness.") for name in imports_of(path)} for module, path in project_modules()}
    graph = {module: {n for n in names if n in graph and n != module} for module, names in graph.items()}
    circles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for name in sorted(graph[module]):
            if state.get(name) == "open":
                circles.append(" -> ".join(path[path.index(name):] + [name]))
            elif name not in state:
                visit(name, path + [name])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert len(graph) > 100 and circles == []


def test_every_error_of_ours_is_an_openness_error():
    """One root: a caller catches all of ours in one clause, and the command turns each into one
    line. Every exception class a module of ours defines is one."""
    import importlib
    import inspect

    from openness.errors import OpennessError
    defined = []
    for module, path in project_modules():
        if "class " not in path.read_text("utf-8") or "Error" not in path.read_text("utf-8"):
            continue
        loaded = importlib.import_module(f"openness.{module}")
        defined += [value for value in vars(loaded).values() if inspect.isclass(value)
                    and issubclass(value, BaseException) and value.__module__ == loaded.__name__]
    assert len(defined) > 20
    assert [error.__qualname__ for error in defined if not issubclass(error, OpennessError)] == []
