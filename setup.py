"""The optional C part of logscan (see logscan/_native.c). The project's metadata is in
pyproject.toml; without a C compiler the build goes on without it and logscan runs in pure
Python, with the same results."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("logscan._native", ["logscan/_native.c"], optional=True)])
