"""The engagement web service (ASGI): tracked links, one-click unsubscribe, SendGrid event webhook."""

from junkan.web.app import create_app

__all__ = ["create_app"]
