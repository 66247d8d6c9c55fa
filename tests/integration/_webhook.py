"""What the webhook tests share: a fixed clock, the signing keys and settings that trust them."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from junkan.config import Settings, WebhookSettings
from junkan.web import create_app
from tests.integration._engagement_data import WebhookKeys

NOW = datetime(2026, 11, 18, 3, 0, tzinfo=UTC).timestamp()
TS = int(NOW) - 3600  # when the events happened


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def keys() -> WebhookKeys:
    return WebhookKeys()


@pytest.fixture
def hook_settings(settings: Settings, keys: WebhookKeys) -> Settings:
    return settings.model_copy(update={"webhook": WebhookSettings(sendgrid_public_key=keys.public_key,
                                                                  max_age_s=600)})


def client(settings: Settings) -> httpx.AsyncClient:
    # Generous: the bulk tests post batches of thousands of events on a loaded machine.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, clock=lambda: NOW)),
                             base_url="http://127.0.0.1", timeout=60)
