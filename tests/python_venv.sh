#!/usr/bin/env bash
# The Python package installed as the README says: a virtual environment
# over Debian's packages (--system-site-packages), pip offline (no build
# isolation, no index: setuptools, numpy, xarray... are Debian's), from a
# copy of the checkout's analysis/ beside its VERSION (the link the package
# version comes from). Then, with no PYTHONPATH and away from the tree, the
# environment's python imports the installed package, reads a results file,
# and the versions agree: the package's, its installed metadata's,
# headspec-py's and the binary's.
# usage: python_venv.sh HEADSPEC_BINARY SOURCE_DIR
set -u
. "$(dirname "$0")/lib.sh"
version=$(cat "$src/VERSION")
unset PYTHONPATH
export MPLCONFIGDIR=$work/mpl

mkdir tree && cp -a "$src/VERSION" "$src/analysis" tree/ && rm -rf tree/analysis/tests
$py -m venv --system-site-packages env; ok $? "python3 -m venv --system-site-packages"
env/bin/pip install --no-build-isolation --no-index tree/analysis >pip.log 2>&1
ok $? "pip install offline: $(tail -3 pip.log)"

cp "$src/tests/jobs/tiny.yaml" job.yaml
"$headspec" run --quiet job.yaml 2>run.log; ok $? "headspec run: $(cat run.log)"
mkdir away && cd away || exit 1
"$work/env/bin/python" - "$work" "$version" ../tiny.h5 <<'PY'; ok $? "the installed package reads the file"
import importlib.metadata, sys
import headspec
work, version, path = sys.argv[1:]
assert headspec.__file__.startswith(work + "/env/"), headspec.__file__
assert headspec.__version__ == version, headspec.__version__
assert importlib.metadata.version("headspec") == version, importlib.metadata.version("headspec")
r = headspec.open_results(path)
assert len(r.points) == 12 and (r.points.status == "done").all()
assert r.attrs["software_version"] == version, r.attrs["software_version"]
PY
[ "$("$work/env/bin/headspec-py" --version)" = "headspec $version (Python package)" ]
ok $? "headspec-py --version: $("$work/env/bin/headspec-py" --version 2>&1)"
"$work/env/bin/python" -m headspec summary ../tiny.h5 >summary.txt; ok $? "python -m headspec summary"
grep -qF "written by $("$headspec" --version | head -1)" summary.txt; ok $? "the summary names the binary's build"
"$headspec" --version | head -1 | grep -q "^headspec $version "; ok $? "the binary's version is VERSION too"
finish python_venv
