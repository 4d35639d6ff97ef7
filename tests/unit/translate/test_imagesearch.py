"""Image search over a registry's catalog (zunk8s/translate/imagesearch.py)."""

import pytest

from zunk8s.translate import imagesearch as S

PLACE = S.SearchPlace(url="http://localhost:5055", path="zunk8s", host="localhost:5055", projects="zunk8s")


def test_where_to_search() -> None:
    assert S.search_place("", "localhost:5055/zunk8s", plain=True) == PLACE
    assert S.search_place("", "", plain=True) is None
    inside = S.search_place("http://registry.kube-system.svc:5055/zunk8s", "localhost:5055/zunk8s", plain=False)
    assert inside == S.SearchPlace(url="http://registry.kube-system.svc:5055", path="zunk8s", host="localhost:5055",
                                   projects="zunk8s")
    assert S.search_place("", "reg.example.com/x", plain=False).url == "https://reg.example.com"  # type: ignore[union-attr]


def test_terms() -> None:
    assert S.parse_term("busybox", PLACE) == ("busybox", None)
    assert S.parse_term("team/app:v1", PLACE) == ("team/app", "v1")
    assert S.parse_term("localhost:5055/zunk8s/app", PLACE) == ("zunk8s/app", None)
    with pytest.raises(S.BadSearch, match="only its own registry"):
        S.parse_term("docker.io/library/busybox", PLACE)


def test_another_projects_images_are_hidden() -> None:
    def seen(repo: str) -> bool:
        return S.visible(repo, PLACE, own_namespace="zun-a", namespace_prefix="zun-")

    assert seen("zunk8s/zun-a/snap") and seen("zunk8s/shared") and seen("zunk8s/team/app")
    assert not seen("zunk8s/zun-b/snap") and not seen("other/app")
    # A search of the whole registry still hides another project's committed images.
    root = S.search_place("http://registry.svc:5055", "localhost:5055/zunk8s", plain=False)
    assert root is not None and root.path == "" and root.projects == "zunk8s"
    assert not S.visible("zunk8s/zun-b/snap", root, own_namespace="zun-a", namespace_prefix="zun-")
    assert S.visible("zunk8s/zun-a/snap", root, own_namespace="zun-a", namespace_prefix="zun-")
    assert S.visible("library/busybox", root, own_namespace="zun-a", namespace_prefix="zun-")


def test_matches() -> None:
    assert S.matches("zunk8s/zun-a/snap", "SNA", PLACE, exact=False, own_namespace="zun-a")
    assert S.matches("zunk8s/zun-a/snap", "snap", PLACE, exact=True, own_namespace="zun-a")
    assert not S.matches("zunk8s/zun-a/snapper", "snap", PLACE, exact=True, own_namespace="zun-a")
    rows = S.results(["zunk8s/app"], {"zunk8s/app": ["v1"]}, PLACE)
    assert rows == [{"name": "localhost:5055/zunk8s/app", "tags": ["v1"], "description": None, "is_automated": None,
                     "metadata": {"is_official": None, "star_count": None}}]
