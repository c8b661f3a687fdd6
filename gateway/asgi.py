"""The ASGI entry point uvicorn workers import: settings from the environment."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import load_settings


def create() -> Starlette:
    return create_app(load_settings())
