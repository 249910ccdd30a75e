"""What ``ivr check`` reports: errors (exit non-zero) and warnings, each with file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Finding"]


@dataclass(frozen=True)
class Finding:
    level: Literal["error", "warning"]
    message: str
    path: Path | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{self.level}: {where}{self.message}"
