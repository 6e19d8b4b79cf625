"""The direction of imports (STYLE.md): api, web -> services -> repository -> models, db;
the domain imports nothing but the standard library. Read from the source with `ast`."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
ANYTHING = "*"  # anything outside the standard library


@dataclass(frozen=True)
class Rule:
    """Modules of `layer` (it and the modules under it) may not import `forbidden`, save `allowed`.

    A name covers what is under it: "sqlalchemy" covers "sqlalchemy.orm.Session".
    """

    layer: str
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()


STORAGE = ("app.repository", "app.models", "app.db")
WEB = ("app.api", "app.web")
# Services own the transaction: a Session (and the sessions a service opens itself, as group
# commit does) and the errors a commit raises. Every query is the repository's.
TRANSACTION = ("sqlalchemy.orm.Session", "sqlalchemy.orm.sessionmaker", "sqlalchemy.exc")

# The most specific layer that covers a module is the one rule it keeps.
RULES = (
    #    layer             may not import                      except
    Rule("app.domain",     (ANYTHING,),                        ("app.domain",)),
    Rule("app.extraction", (ANYTHING,),                        ("app.domain", "app.extraction")),
    Rule("app.schemas",    ("app.services", *STORAGE)),
    Rule("app.api",        (*STORAGE, "sqlalchemy")),
    Rule("app.api.errors", (*STORAGE, "sqlalchemy"),           ("sqlalchemy.exc",)),
    Rule("app.web",        (*STORAGE, "sqlalchemy")),
    Rule("app.services",   (*WEB, "app.models", "sqlalchemy"), TRANSACTION),
    Rule("app.repository", ("app.services", "app.api")),
)  # fmt: skip


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports, in full: "sqlalchemy.orm.Session", "app.repository"
    source: str  # the module it imports from, as the allow-list names it


def module_name(path: Path) -> str:
    """app/api/deps.py -> app.api.deps; a package's __init__.py is the package."""
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_app_module(name: str) -> bool:
    """Whether a dotted name is a module of app/ ("app.repository"), not a name in one."""
    path = APP.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> Iterator[Import]:
    """Every import in a module, at any depth (inside functions and TYPE_CHECKING too)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (Import(module, alias.name, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield Import(module, target, target if is_app_module(target) else base)


def covers(name: str, target: str) -> bool:
    """Whether target is name or under it: "app.db" covers "app.db.SessionDep"."""
    return target == name or target.startswith(f"{name}.")


def rule_for(module: str) -> Rule | None:
    """The rule of the most specific layer covering module; None for modules of no layer."""
    layers = [rule for rule in RULES if covers(rule.layer, module)]
    return max(layers, key=lambda rule: len(rule.layer), default=None)


def breaks(rule: Rule, target: str) -> bool:
    """Whether importing target breaks rule."""
    if any(covers(name, target) for name in rule.allowed):
        return False
    if ANYTHING in rule.forbidden:
        return target.partition(".")[0] not in sys.stdlib_module_names
    return any(covers(name, target) for name in rule.forbidden)


def offences() -> set[tuple[str, str]]:
    """(module, imported module) of every import that breaks its layer's rule."""
    found: set[tuple[str, str]] = set()
    for path in sorted(APP.rglob("*.py")):
        for imported in imports_of(path):
            rule = rule_for(imported.module)
            if rule is not None and breaks(rule, imported.target):
                found.add((imported.module, imported.source))
    return found


def listing(pairs: set[tuple[str, str]]) -> str:
    return "\n".join(f"  {module} imports {source}" for module, source in sorted(pairs))


def test_every_layer_imports_only_what_its_rule_allows() -> None:
    unexpected = offences()
    assert not unexpected, f"imports against the layering rules:\n{listing(unexpected)}"


def test_the_rules_read_what_the_code_imports() -> None:
    """The checker itself: a forbidden import is found, an allowed one is not."""
    assert breaks(Rule("app.domain", (ANYTHING,)), "pydantic.BaseModel")
    assert not breaks(Rule("app.domain", (ANYTHING,)), "datetime.date")
    services = rule_for("app.services.claims")
    assert services is not None
    assert breaks(services, "sqlalchemy.select")
    assert not breaks(services, "sqlalchemy.orm.Session")
    assert breaks(services, "sqlalchemy.orm.joinedload")
    assert getattr(rule_for("app.api.errors"), "layer", None) == "app.api.errors"
    assert rule_for("app.main") is None
    domain = [i for i in imports_of(APP / "domain" / "vocabulary.py") if i.source != "__future__"]
    assert {(i.module, i.source) for i in domain} == {
        ("app.domain.vocabulary", "dataclasses"),
        ("app.domain.vocabulary", "app.domain.model"),
    }
