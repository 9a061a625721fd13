#!/usr/bin/env bash
# Install the Debian 12 packages headspec needs. As root, installs what is
# missing with apt; otherwise prints the exact command and fails.
# Usage: scripts/setup.sh [--with-tests] [--with-slurm]
#   --with-tests  also what the tests read results files with (netCDF-4),
#                 read the man page with and load the modulefile with
set -eu
# help2man writes the man page from --help; python3-venv and
# python3-setuptools install the Python package with pip, offline.
packages=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools libopenblas-dev libgsl-dev libsundials-dev librandom123-dev
  libfyaml-dev help2man python3-h5py python3-h5netcdf python3-numpy python3-pandas python3-xarray
  python3-yaml python3-matplotlib python3-venv python3-setuptools)
for option in "$@"; do
  case $option in
    --with-tests) packages+=(python3-netcdf4 netcdf-bin man-db environment-modules) ;;
    --with-slurm) packages+=(slurmctld slurmd slurm-client munge) ;;
    *) echo "setup: unknown option $option" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: missing Debian packages; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
