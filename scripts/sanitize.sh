#!/usr/bin/env bash
# The C part (logscan/_native*.c) under AddressSanitizer and UndefinedBehaviorSanitizer.
#
# The tests compare the C paths with the Python ones, but a read a few bytes past a buffer
# changes no result: only a sanitizer sees it. This builds the C part with both sanitizers in a
# copy of the tree and runs the tests that drive it there; the first report fails the run.
# Usage: scripts/sanitize.sh [PYTEST ARGS...]   (CC and PYTHON may be set; default gcc, .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(realpath "${PYTHON:-.venv/bin/python}")
cc=${CC:-gcc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r logscan tests scripts patterns samples pyproject.toml "$work"/
cp -r patterns "$work"/logscan/packs # as pyproject.toml's package-dir installs it
rm -f "$work"/logscan/_native*.so
include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
"$cc" -shared -fPIC -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
  -fno-sanitize-recover=all -I"$include" "$work"/logscan/_native*.c \
  -o "$work/logscan/_native$suffix"
preload=""
for lib in libasan.so libubsan.so; do
  path=$("$cc" -print-file-name=$lib)
  if [ ! -e "$path" ]; then
    echo "scripts/sanitize.sh: $cc has no $lib (Debian: apt-get install libasan8 libubsan1)" >&2
    exit 2
  fi
  preload="$preload $path"
done
if [ $# -eq 0 ]; then
  set -- tests/test_native.py tests/test_prefilter.py tests/test_access.py \
    tests/test_reject.py tests/test_framing_lanes.py tests/test_differential.py
fi
cd "$work"
# CPython's own allocator would hide the C part's reads past an object from ASan; its leaks at
# exit are not ours. A report goes to stderr (--capture=sys leaves it there).
LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 PYTHONMALLOC=malloc PYTHONPATH="$work" \
  "$python" -m pytest -q -p no:cacheprovider --capture=sys --hypothesis-profile=sanitize "$@"
# The tests must have run on the sanitized build, not on an installed one.
LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 PYTHONPATH="$work" "$python" -c \
  "import logscan._native as n, sys; sys.exit(not n.__file__.startswith('$work'))"
