#!/bin/bash -eu
# SPDX-License-Identifier: GPL-2.0-only
#
# ClusterFuzzLite / OSS-Fuzz entry point.  The real build lives in
# fuzz/build.sh so the same script runs here and on a developer's machine.
exec "$SRC/hvocheck/fuzz/build.sh"
