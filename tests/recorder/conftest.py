"""Fast retries for the recorder tests (the same fixture as tests/reliability's)."""

from tests.reliability.conftest import chaos_figures, fast_retries

__all__ = ["chaos_figures", "fast_retries"]
