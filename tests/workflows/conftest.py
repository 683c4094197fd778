"""Fixtures the workflow tests share."""

from tests.workflows.ca_world import world

__all__ = ["world"]
