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


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "zunk8s.example", "::"])
def test_noauth_is_refused_off_loopback(host: str) -> None:
    with pytest.raises(ValidationError, match="noauth"):
        Settings(host=host)
    assert Settings(host=host, auth={"allow_noauth_remote": True}).auth.mode == "noauth"  # type: ignore[arg-type]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_noauth_on_loopback(host: str) -> None:
    assert Settings(host=host).host == host


def test_auth_modes_need_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZUNK8S_AUTH__MODE", "keystone")
    with pytest.raises(ValidationError, match="needs auth.keystone"):
        Settings()
    for key, value in {
        "AUTH_URL": "http://127.0.0.1:35357/v3/",
        "USERNAME": "zunk8s",
        "PROJECT_NAME": "service",
    }.items():
        monkeypatch.setenv(f"ZUNK8S_AUTH__KEYSTONE__{key}", value)
    with pytest.raises(ValidationError, match="exactly one of"):
        Settings()
    monkeypatch.setenv("ZUNK8S_AUTH__KEYSTONE__PASSWORD_FILE", "/run/secrets/password")
    s = Settings(host="0.0.0.0")  # keystone mode may listen anywhere
    assert s.auth.keystone is not None and s.auth.keystone.auth_url == "http://127.0.0.1:35357/v3"
    monkeypatch.setenv("ZUNK8S_AUTH__KEYSTONE__PASSWORD", "secret")
    with pytest.raises(ValidationError, match="exactly one of"):
        Settings()
    monkeypatch.setenv("ZUNK8S_AUTH__MODE", "static")
    monkeypatch.delenv("ZUNK8S_AUTH__KEYSTONE__PASSWORD")
    with pytest.raises(ValidationError, match="needs auth.tokens_file"):
        Settings()
