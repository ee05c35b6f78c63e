"""htmx request detection: a list view answers an htmx request with its table fragment only."""


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"
