#!/usr/bin/env bash
# The Debian package: cpack -G DEB from the build directory gives
# headspec_VERSION_ARCH.deb; its control names the version and every runtime
# dependency (each a package Debian has: installed here, where it was built);
# extracted (dpkg-deb -x) its binary runs a tiny job, its Python package reads
# the file and agrees on the version, its man page renders, and its scripts
# name /usr, not the staging or build directories.
# usage: deb_package.sh HEADSPEC_BINARY SOURCE_DIR BUILD_DIR
set -u
build=$(realpath "$3")
. "$(dirname "$0")/lib.sh"
version=$(cat "$src/VERSION") arch=$(dpkg --print-architecture)
deb=$work/pkg/headspec_${version}_$arch.deb
unset PYTHONPATH

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >cpack.log 2>&1
ok $? "cpack -G DEB: $(tail -5 cpack.log)"
[ -f "$deb" ]; ok $? "the package is $(basename "$deb"): $(ls "$work/pkg")"

dpkg-deb -f "$deb" Package Version Architecture >fields.txt
printf 'Package: headspec\nVersion: %s\nArchitecture: %s\n' "$version" "$arch" | cmp -s - fields.txt
ok $? "control: package, version, architecture: $(cat fields.txt)"
depends=$(dpkg-deb -f "$deb" Depends)
for want in libopenmpi3 openmpi-bin libhdf5-openmpi- libhdf5-openmpi-hl- libopenblas0 libgsl libsundials-cvode \
            libfyaml0 python3 python3-h5py python3-h5netcdf python3-numpy python3-pandas python3-xarray \
            python3-yaml python3-matplotlib; do
  [[ ", $depends," == *", $want"* ]]; ok $? "Depends names $want: $depends"
done
# every name a package of this Debian (the build machine has them all)
for name in $(echo "$depends" | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g'); do
  dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"
  ok $? "dependency $name is an installed Debian package"
done
dpkg-deb -I "$deb" | grep -q ' postinst ' && dpkg-deb -I "$deb" | grep -q ' prerm '
ok $? "postinst and prerm (byte-compile, clean the Python package)"

dpkg-deb -x "$deb" root; ok $? "dpkg-deb -x"
for f in usr/bin/headspec usr/share/man/man1/headspec.1.gz usr/lib/python3/dist-packages/headspec/__init__.py \
         usr/lib/python3/dist-packages/headspec/VERSION usr/share/headspec/jobs/demo.yaml \
         usr/share/headspec/slurm/sweep.sbatch usr/share/headspec/demo.sh usr/share/doc/headspec/README.md; do
  [ -f "root/$f" ]; ok $? "in the package: /$f"
done
[ ! -e root/usr/share/modulefiles ]; ok $? "no modulefile under /usr"
named=$(grep -rlI -e "$src" -e "$build" -e "$work" root)
[ -z "$named" ]; ok $? "no file names the source, build or staging directory: $named"
grep -q "^installed_headspec='/usr/bin/headspec'$" root/usr/share/headspec/slurm/run-sweep.sh &&
  grep -q "^slurm_dir='/usr/share/headspec/slurm'$" root/usr/share/headspec/slurm/sweep.sbatch
ok $? "the SLURM scripts name /usr/bin/headspec and /usr/share/headspec/slurm"

root/usr/bin/headspec --version >version.txt; ok $? "the extracted binary runs"
head -1 version.txt | grep -q "^headspec $version "; ok $? "its version: $(head -1 version.txt)"
cp "$src/tests/jobs/tiny.yaml" job.yaml
root/usr/bin/headspec run --quiet job.yaml 2>run.log; ok $? "it runs a tiny job: $(cat run.log)"
root/usr/bin/headspec verify tiny.h5 >/dev/null; ok $? "and the file verifies"

export PYTHONPATH=$work/root/usr/lib/python3/dist-packages MPLCONFIGDIR=$work/mpl
[ "$($py -m headspec --version)" = "headspec $version (Python package)" ]; ok $? "python3 -m headspec --version"
$py -m headspec summary tiny.h5 >summary.txt; ok $? "python3 -m headspec summary: $(tail -3 summary.txt)"
grep -qF "written by $(head -1 version.txt)" summary.txt; ok $? "the summary names the build"
MANWIDTH=100 man -l root/usr/share/man/man1/headspec.1.gz 2>man.err | col -b >man.txt
grep -q "headspec validate" man.txt && [ ! -s man.err ]; ok $? "man -l on the packaged page: $(head -3 man.err)"
finish deb_package
