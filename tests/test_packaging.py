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
    import staffbridge.jobs.migration.run  # noqa: F401 - importing the submodules must not shadow the functions
    import staffbridge.jobs.unification.run  # noqa: F401
    for name in ("connect", "available", "migrate", "unify", "Person", "Ref", "NotFound"):
        assert callable(getattr(staffbridge, name)), name
    assert set(staffbridge.__all__) >= {"connect", "available", "migrate", "unify", "Person", "PersonSchema"}
