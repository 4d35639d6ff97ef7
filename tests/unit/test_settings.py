from pathlib import Path

import pytest
from pydantic import ValidationError

from zunk8s.settings import Settings


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "zunk8s.env"
    env_file.write_text('ZUNK8S_PORT=9777\nZUNK8S_KUBE__NAMESPACE_PREFIX=cfg-\nZUNK8S_KUBE__NODE_SELECTOR={"type": "kwok"}\n')
    monkeypatch.setenv("ZUNK8S_KUBE__NAMESPACE_PREFIX", "env-")
    # pydantic's dataclass_transform makes mypy see an __init__ of the fields only, without
    # BaseSettings' _env_file (the pydantic.mypy plugin is not enabled).
    s = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert s.port == 9777
    assert s.kube.namespace_prefix == "env-"  # the environment wins over the file
    assert s.kube.node_selector == {"type": "kwok"}


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZUNK8S_KUBE__REQUEST_RATIO", "2")
    with pytest.raises(ValidationError):
        Settings()
