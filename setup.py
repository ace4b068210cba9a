"""The optional C part of logscan (logscan/_native*.c). The project's metadata is in
pyproject.toml; without a C compiler the build goes on without it and logscan runs in pure
Python, with the same results."""

from setuptools import Extension, setup

SOURCES = [
    "logscan/_native.c",
    "logscan/_native_literals.c",
    "logscan/_native_vector.c",
    "logscan/_native_lane.c",
    "logscan/_native_stamps.c",
    "logscan/_native_records.c",
    "logscan/_native_access.c",
    "logscan/_native_weigh.c",
    "logscan/_native_held.c",
    "logscan/_native_requests.c",
    "logscan/_native_reject.c",
]

setup(
    ext_modules=[
        Extension("logscan._native", SOURCES, depends=["logscan/_native.h"], optional=True)
    ]
)
