"""The client's real address behind trusted proxies, and the headers every HTML page carries.

Addresses: with ``IVR_TRUSTED_PROXIES=N`` (the load balancers in front of the app), werkzeug's
ProxyFix takes the client's address from the N-th ``X-Forwarded-For`` entry from the right, and
the scheme from ``X-Forwarded-Proto``; ``request.remote_addr`` is then the client's. With 0 (the
default) those headers are ignored, since anyone can send them; a request that carries one is
logged once, as a hint that the setting may be missing (every sign-in would otherwise seem to
come from the balancer).

Headers: every HTML page gets a Content-Security-Policy (:data:`PAGE_POLICY` unless the view set
its own: no script at all, nothing from other sites, never framed), ``X-Frame-Options: DENY``
for older browsers, ``nosniff`` and a same-origin referrer.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

__all__ = ["PAGE_POLICY", "init_app", "page_policy"]

log = logging.getLogger(__name__)


def page_policy(*, script: str = "'none'", connect: str = "'none'", form: str = "'self'") -> str:
    """A Content-Security-Policy for a page of this app: its own styles, images and audio only."""
    return "; ".join([
        "default-src 'none'", f"script-src {script}", "style-src 'self'", "img-src 'self'", "media-src 'self'",
        f"connect-src {connect}", f"form-action {form}", "base-uri 'none'", "frame-ancestors 'none'",
    ])


PAGE_POLICY = page_policy()


def init_app(app: Flask) -> None:
    """Trust IVR_TRUSTED_PROXIES hops of forwarded headers; add the page headers to HTML."""
    hops = app.extensions["ivr.runtime"].settings.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    else:
        warned = False

        @app.before_request
        def _untrusted_forwarding() -> None:
            nonlocal warned
            if not warned and "X-Forwarded-For" in request.headers:
                warned = True
                log.warning("a request came with X-Forwarded-For, which is not trusted (IVR_TRUSTED_PROXIES=0): "
                            "behind a load balancer, set IVR_TRUSTED_PROXIES to the number of proxies, or every "
                            "sign-in seems to come from the balancer's address (docs/deploy.md)")

    @app.after_request
    def _page_headers(response: Response) -> Response:
        if response.mimetype == "text/html":
            headers = response.headers
            headers.setdefault("Content-Security-Policy", PAGE_POLICY)
            headers.setdefault("X-Frame-Options", "DENY")
            headers.setdefault("X-Content-Type-Options", "nosniff")
            headers.setdefault("Referrer-Policy", "same-origin")
        return response
