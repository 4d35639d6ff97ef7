"""/v1/images as Zun serves it (admin only but search, by Zun's policy; no microversion gate)."""

from __future__ import annotations

from aiohttp import web

from zunk8s.appkeys import authorize, base_url, caller_of, services_of
from zunk8s.errors import NotImplementedOnKubernetes, SchemaValidationError
from zunk8s.handlers.params import json_body, next_link, query_dict
from zunk8s.schemas.params import reject_unknown, shown
from zunk8s.schemas.queries import parse_limit, parse_sort_dir
from zunk8s.translate import images


async def list_images(request: web.Request) -> web.Response:
    params = query_dict(request)  # other parameters are ignored, as in Zun
    authorize(request, "image:get_all")
    limit, sort_dir = parse_limit(params), parse_sort_dir(params)
    sort_key = params.get("sort_key") or "id"
    found = await services_of(request).images.page(caller_of(request), sort_key=sort_key, sort_dir=sort_dir,
                                                   marker=params.get("marker") or None, limit=limit)
    base = base_url(request)
    views = [images.view(o, base) for o in found]
    next_url = next_link(request, "images", sort_key=sort_key, sort_dir=sort_dir, limit=limit, count=len(views),
                         last=views[-1]["uuid"] if views else None)
    return web.json_response({"images": views, "next": next_url})


async def show_image(request: web.Request) -> web.Response:
    # Zun looks the image up first (its 400), then checks the policy on it.
    found = await services_of(request).images.get(caller_of(request), request.match_info["ident"])
    authorize(request, "image:get_one", project_id=str((found.get("spec") or {}).get("project_id")))
    return web.json_response(images.view(found, base_url(request)))


async def pull_image(request: web.Request) -> web.Response:
    try:
        repo, host = images.check_pull(await json_body(request, required=True))
    except images.BadPull as e:
        raise SchemaValidationError(str(e)) from None
    authorize(request, "image:pull")
    made = await services_of(request).images.pull(caller_of(request), repo, host)
    view = images.view(made, base_url(request))
    return web.json_response(view, status=202, headers={"Location": f"{base_url(request)}/v1/images/{view['uuid']}"})


async def delete_image(request: web.Request) -> web.Response:
    authorize(request, "image:delete")  # Zun: the policy before the lookup
    await services_of(request).images.delete(caller_of(request), request.match_info["ident"])
    return web.json_response(None)  # Zun's handler returns nothing: pecan answers 200 null


_DRIVERS = ("glance", "docker", None, "None")
_EXACT = {"True": True, "true": True, "False": False, "false": False}


async def search_image(request: web.Request) -> web.Response:
    params = query_dict(request)
    reject_unknown(params, {"image_driver", "exact_match"})  # Zun's query_param_search
    driver = params.get("image_driver")
    if driver not in _DRIVERS:
        raise SchemaValidationError(f"Invalid input for query parameters image_driver. Value: {shown(driver)}. "
                                    f"{shown(driver)!r} is not one of {list(_DRIVERS)}")
    exact = params.get("exact_match", "false")
    if exact not in _EXACT:
        raise SchemaValidationError(f"Invalid input for query parameters exact_match. Value: {shown(exact)}. "
                                    f"{shown(exact)!r} is not one of [True, 'True', 'true', False, 'False', 'false']")
    authorize(request, "image:search")
    if driver == "glance":
        raise NotImplementedOnKubernetes(
            "image_driver 'glance' needs an OpenStack image service, and zunk8s has none configured: "
            "search its registry with image_driver 'docker' (the default)."
        )
    found = await services_of(request).images.search(caller_of(request), request.match_info["ident"],
                                                     exact=_EXACT[exact])
    return web.json_response(found)


def add_routes(app: web.Application, prefix: str) -> None:
    for collection in (f"{prefix}/images", f"{prefix}/images/"):
        app.router.add_get(collection, list_images)
        app.router.add_post(collection, pull_image)
    for item in (f"{prefix}/images/{{ident}}", f"{prefix}/images/{{ident}}/"):
        app.router.add_get(item, show_image)
        app.router.add_delete(item, delete_image)
    # An image name has slashes (repo paths, a registry host), sent unquoted by the client.
    for search in (f"{prefix}/images/{{ident:.+}}/search", f"{prefix}/images/{{ident:.+}}/search/"):
        app.router.add_get(search, search_image)
