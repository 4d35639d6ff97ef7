"""Kubernetes names derived from Zun's: namespaces per project."""

from zunk8s.translate.names import namespace_for, project_hash


def test_namespace_names() -> None:
    assert namespace_for("demo", "zun-") == "zun-demo"
    assert namespace_for("2cc8ed7104ca427c873cad82411bcebb", "zun-") == "zun-2cc8ed7104ca427c873cad82411bcebb"
    hashed = namespace_for("My Project", "zun-")
    assert hashed == "zun-" + project_hash("My Project") and len(hashed) <= 63
    assert namespace_for("x" * 70, "zun-").startswith("zun-") and len(namespace_for("x" * 70, "zun-")) <= 63
