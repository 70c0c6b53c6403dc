#!/usr/bin/env bash
# Install what the Slurm test (tests/test_slurm.py) needs to start a one-node cluster of its own:
# Debian's slurm-wlm (slurmctld, slurmd, sbatch) and munge. Needs root and apt; does nothing where
# both are already there. The test starts and stops the daemons itself (its own config and ports);
# this script starts nothing.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    echo "slurm-wlm and munge already installed"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-local.sh: needs root and apt-get; the Slurm test will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq slurm-wlm munge >/dev/null
echo "installed: $(slurmctld -V), munge $(munged --version 2>&1 | head -n1)"
