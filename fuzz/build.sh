#!/bin/bash -eu
# SPDX-License-Identifier: GPL-2.0-only
#
# Builds every hvocheck fuzz target the OSS-Fuzz way: compile everything with
# $CC $CXX $CFLAGS $CXXFLAGS, link each target with $LIB_FUZZING_ENGINE, and
# put into $OUT, beside each target, <target>_seed_corpus.zip, <target>.dict
# and <target>.options.  OSS-Fuzz and ClusterFuzzLite set those variables (and
# call this script from .clusterfuzzlite/build.sh); run by hand it defaults to
# clang-19 with ASan + UBSan + libFuzzer and writes to build/oss-fuzz-out:
#
#   fuzz/build.sh && ls build/oss-fuzz-out
#
# Seed corpora are made at build time from the text scenarios under
# fuzz/corpus/<target>/*.hvo by the shared encoder, so the checked-in seeds
# are readable and cannot drift from the byte format.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_dir=$(dirname "$here")

: "${CC:=clang-19}"
: "${CXX:=clang++-19}"
: "${CFLAGS:=-O1 -g -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link}"
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$src_dir/build/oss-fuzz-out}"
: "${WORK:=$src_dir/build/oss-fuzz-work}"

build_dir="$WORK/hvocheck-fuzz-build"
mkdir -p "$OUT" "$build_dir"

generator=()
if command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

# CMAKE_BUILD_TYPE is empty on purpose: the optimisation and debug flags are
# whatever $CFLAGS says (OSS-Fuzz picks them per sanitizer), and without a
# build type nothing adds -DNDEBUG, so the model's assertions stay armed.
# HVO_SANITIZE and HVO_FUZZ_INSTRUMENT are off because $CFLAGS already carries
# the sanitizer and coverage flags of the build being made.
cmake -S "$src_dir" -B "$build_dir" "${generator[@]}" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DHVO_BUILD_FUZZERS=ON -DHVO_FUZZ_INSTRUMENT=OFF \
  -DHVO_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DHVO_SANITIZE= -DHVO_ASSERTIONS=ON \
  -DHVO_BUILD_CHECKERS=OFF -DHVO_BUILD_TESTS=OFF -DHVO_BUILD_BENCH=OFF

cmake --build "$build_dir" --target hvo_fuzz_all -j "$(nproc)"

# The build writes the list of targets it made, so this script never has to
# know which model pieces exist.
targets_file="$build_dir/fuzz/hvo_fuzz_targets.txt"
if [[ ! -s "$targets_file" ]]; then
  echo "fuzz/build.sh: error: $targets_file is missing or empty; no fuzz target was built" >&2
  exit 1
fi
count=0
while read -r target; do
  [[ -n "$target" ]] || continue
  cp "$build_dir/bin/$target" "$OUT/$target"
  cp "$build_dir/fuzz/out/${target}_seed_corpus.zip" "$OUT/"
  cp "$build_dir/fuzz/out/$target.dict" "$OUT/"
  cp "$build_dir/fuzz/out/$target.options" "$OUT/"
  count=$((count + 1))
done <"$targets_file"
echo "fuzz/build.sh: $count targets in $OUT"
