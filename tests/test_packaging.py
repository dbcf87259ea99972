"""Every adapter module is registered, and nothing installs as a top-level `adapters` package."""

import importlib
import inspect
import pkgutil
import tomllib
from pathlib import Path

import staffbridge
import staffbridge.adapters
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.registry import adapter_class

ROOT = Path(__file__).resolve().parent.parent


def adapter_classes():
    for module_info in pkgutil.iter_modules(staffbridge.adapters.__path__):
        module = importlib.import_module(f"staffbridge.adapters.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Adapter) and cls.__module__ == module.__name__ and "name" in vars(cls):
                yield cls


def test_every_adapter_class_has_an_entry_point():
    installed = set(staffbridge.available())
    found = {cls.name: cls for cls in adapter_classes()}
    assert found, "no adapters found in staffbridge.adapters"
    missing = sorted(set(found) - installed)
    assert not missing, f"adapters without an entry point in pyproject.toml: {missing}"
    for name, cls in found.items():
        assert adapter_class(name) is cls


def test_adapters_and_mappings_install_under_staffbridge():
    # PyPI already has an unrelated `adapters` package: ours must only ever install as staffbridge.adapters
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert not [p for p in setup["packages"] if not p.startswith("staffbridge")]
    assert setup["package-dir"] == {"staffbridge.adapters": "adapters", "staffbridge.mappings": "mappings"}
    assert staffbridge.adapters.__name__ == "staffbridge.adapters"


def test_py_typed_ships():
    from importlib import resources

    assert resources.files("staffbridge").joinpath("py.typed").is_file()


def test_public_api_names_are_the_functions_not_the_modules():
    import staffbridge.jobs.migration.run
    import staffbridge.jobs.unification.run

    for name in ("connect", "available", "migrate", "unify", "Person", "Ref", "NotFound"):
        assert callable(getattr(staffbridge, name)), name
    assert set(staffbridge.__all__) >= {"connect", "available", "migrate", "unify", "Person", "PersonSchema"}


def test_every_subpackage_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "staffbridge").rglob("__init__.py")}
    assert found, "no packages found under staffbridge/"
    assert not sorted(found - listed), f"subpackages missing from [tool.setuptools] packages: {sorted(found - listed)}"


def test_every_sandbox_and_mapping_has_an_entry_point():
    import staffbridge.sandbox
    from staffbridge.mapping.locate import mapping_names, mapping_text
    from staffbridge.sandbox.server import Sandbox
    from staffbridge.sdk.registry import installed_sandboxes, sandbox_class

    vendors = [info.name for info in pkgutil.iter_modules(staffbridge.sandbox.__path__) if info.ispkg]
    assert vendors, "no sandbox packages found in staffbridge.sandbox"
    for vendor in vendors:
        assert vendor in installed_sandboxes(), f"sandbox {vendor!r} has no staffbridge.sandboxes entry point"
        cls = sandbox_class(vendor)
        assert issubclass(cls, Sandbox) and cls.name == vendor
    shipped = {path.stem for path in (ROOT / "mappings").glob("*.toml")} - {"unify"}  # unify.toml: rules
    assert shipped and shipped <= set(mapping_names()), (
        f"mappings without an entry point: {shipped - set(mapping_names())}"
    )
    for name in shipped:
        assert mapping_text(name) == (ROOT / "mappings" / f"{name}.toml").read_text(encoding="utf-8")
