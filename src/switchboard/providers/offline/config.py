"""``OfflineConfig``: the settings of one ``offline`` provider instance.

Its own module so the registry can validate a provider row's settings (and build an
instance from the environment) without importing the adapter: a start imports only the
adapters of the kinds it calls (issue 12, decision 0220)."""

from __future__ import annotations

from pydantic import Field

from switchboard.spec.provider import ProviderConfig


class OfflineConfig(ProviderConfig):
    """``chunk_delay_ms``: the pace of the deltas so a UI shows streaming (one every so
    many ms, kept against a deadline: pacing.py; 0: no pauses); the pauses of one answer
    add up to at most ``limits.MAX_STREAM_PAUSE_S``."""

    chunk_delay_ms: int = Field(default=15, ge=0, le=5_000)
