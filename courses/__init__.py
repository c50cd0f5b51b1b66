"""Course content: one folder per course with its metadata and source notebooks."""
from pathlib import Path

COURSES_ROOT = Path(__file__).resolve().parent
