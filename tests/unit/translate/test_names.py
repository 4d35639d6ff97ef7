"""Kubernetes names derived from Zun's: namespaces per project."""

from zunk8s.translate.names import is_dns_subdomain, namespace_for, project_hash


def test_namespace_names() -> None:
    assert namespace_for("demo", "zun-") == "zun-demo"
    assert namespace_for("2cc8ed7104ca427c873cad82411bcebb", "zun-") == "zun-2cc8ed7104ca427c873cad82411bcebb"
    hashed = namespace_for("My Project", "zun-")
    assert hashed == "zun-" + project_hash("My Project") and len(hashed) <= 63
    assert namespace_for("x" * 70, "zun-").startswith("zun-") and len(namespace_for("x" * 70, "zun-")) <= 63


def test_node_names_are_dns_subdomains() -> None:
    for ok in ("zun-real-0", "ip-10-0-0-1.ec2.internal", "a"):
        assert is_dns_subdomain(ok), ok
    for bad in ("", "..", ".", "a..b", "Zun", "a_b", "a/b", "-a", "x" * 254, "a b"):
        assert not is_dns_subdomain(bad), bad
