from enum import StrEnum


class MemoryMode(StrEnum):
    FAST = "fast"
    LONG_RANGE = "long-range"

    def __str__(self) -> str:
        return str(self.value)
