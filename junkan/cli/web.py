"""`junkan web`: serve the engagement endpoints (tracked links, one-click unsubscribe, SendGrid webhook)."""

from __future__ import annotations

from typing import Annotated

import typer

FACTORY = "junkan.web.app:app_from_env"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def web(
    host: Annotated[str, typer.Option(help="Interface to bind. Keep 127.0.0.1 behind a reverse proxy.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    root_path: Annotated[str, typer.Option(
        "--root-path", help="URL prefix the proxy serves this app under, e.g. /junkan (no trailing slash).",
    )] = "",
    proxy_headers: Annotated[bool, typer.Option(
        "--proxy-headers/--no-proxy-headers",
        help="Trust X-Forwarded-Proto/-For from the addresses in --forwarded-allow-ips.",
    )] = True,
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips",
        help="Comma-separated proxy addresses (or CIDRs) whose X-Forwarded-* headers are trusted; '*' trusts "
             "every peer, so use it only when nothing else can reach the port.",
    )] = "127.0.0.1",
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (PostgreSQL: several; SQLite: 1).")
                       ] = 1,
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log",
        help="Log every request. Off by default: access logs would record client IP addresses and the "
             "link tokens in the URLs, which Junkan otherwise never keeps.",
    )] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: critical, error, warning, info, debug.")
                         ] = "info",
) -> None:
    """Serve tracked links, one-click unsubscribe and the SendGrid event webhook.

    Endpoints: GET /r/{token}, GET|POST /u/{token}, POST /hooks/sendgrid,
    GET /healthz. Settings come from JUNKAN_* variables or junkan.toml:
    JUNKAN_DATABASE_URL, JUNKAN_LINKS__SECRET (plus __FALLBACK_SECRETS while
    rotating keys), JUNKAN_LINKS__PUBLIC_BASE_URL (the public origin used in
    mailed links) and JUNKAN_WEBHOOK__SENDGRID_PUBLIC_KEY.

    Behind a reverse proxy (nginx, Caddy, a load balancer):
    - terminate TLS at the proxy and forward to this process on 127.0.0.1;
    - keep --proxy-headers on and put the proxy's address in
      --forwarded-allow-ips, so X-Forwarded-Proto/-For are honoured from the
      proxy only;
    - under a path prefix (https://example.co.jp/junkan/) pass
      --root-path /junkan and set
      JUNKAN_LINKS__PUBLIC_BASE_URL=https://example.co.jp/junkan; the proxy
      strips the prefix before forwarding (as in the example below);
    - allow request bodies of 16 MB on /hooks/sendgrid and cache nothing;
    - time out slow clients at the proxy too (client_header_timeout,
      client_body_timeout); this server closes a connection whose headers
      take over 10 s or whose body takes over 30 s.

    nginx example:
      location /junkan/ { proxy_pass http://127.0.0.1:8000/;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $remote_addr; }
    """
    import uvicorn

    from junkan.cli.ready import refuse_a_database_not_ready
    from junkan.config import get_settings
    from junkan.web.app import app_from_env
    from junkan.web.server import server_options

    if get_settings().links.uses_default_secret:
        if host not in LOOPBACK:
            typer.echo(
                "refusing to serve on a public interface with the default JUNKAN_LINKS__SECRET: anyone "
                "could forge unsubscribe and tracking links. Set a long random secret.",
                err=True,
            )
            raise typer.Exit(2)
        typer.echo("warning: JUNKAN_LINKS__SECRET is the shipped default; set your own before going live.",
                   err=True)

    refuse_a_database_not_ready(get_settings().database_url)
    common = {
        "host": host,
        "port": port,
        "root_path": root_path.rstrip("/"),
        "proxy_headers": proxy_headers,
        "forwarded_allow_ips": forwarded_allow_ips,
        "access_log": access_log,
        "log_level": log_level,
        "server_header": False,
        **server_options(),  # header and body deadlines (docs/operations.md "Web service")
    }
    if workers == 1:
        # Build the app here so a bad setting (e.g. a mistyped webhook key) fails before binding the port.
        uvicorn.run(app_from_env(), **common)
    else:
        uvicorn.run(FACTORY, factory=True, workers=workers, **common)
