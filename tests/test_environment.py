"""The conda spec, the pip lock and pyproject.toml describe one dependency set.

environment.yml is parsed here as YAML, independently of the script that writes it,
so a hand edit of either file that makes them disagree fails this test.
"""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def _environment() -> tuple[dict[str, str], list[str]]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert spec["channels"][0] == "conda-forge"
    pins: dict[str, str] = {}
    other: list[str] = []
    for dep in spec["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        for entry in entries:
            m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)$", entry)
            if m:
                name = _norm(m.group(1))
                assert name not in pins, f"{name} appears twice in environment.yml"
                pins[name] = m.group(2)
            else:
                other.append(entry)
    return pins, other


def test_every_locked_package_is_in_environment_yml_at_the_same_version():
    lock = _lock()
    env, _ = _environment()
    assert len(lock) > 50  # the lock pins the whole transitive set, not only direct deps
    assert set(env) == set(lock), (
        f"only in lock: {sorted(set(lock) - set(env))}; only in environment.yml: {sorted(set(env) - set(lock))}"
    )
    differing = {n: (lock[n], env[n]) for n in lock if lock[n] != env[n]}
    assert not differing, f"versions differ (lock, environment.yml): {differing}"


def test_environment_yml_has_only_python_pip_and_the_package_besides_pins():
    _, other = _environment()
    assert sorted(other) == sorted(["python=3.11", "pip", "-e ."])


def test_every_direct_dependency_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        direct += extra
    lock = _lock()
    names = {_norm(re.match(r"^[A-Za-z0-9_.\-]+", d).group(0)) for d in direct}
    assert names <= set(lock), f"not pinned in requirements.lock: {sorted(names - set(lock))}"


def test_required_libraries_of_the_design_card_are_pinned():
    lock = _lock()
    for name in ("jupyterlab", "statsmodels", "seaborn", "pingouin", "scipy", "pandas"):
        assert name in lock
