# SPDX-License-Identifier: GPL-2.0-only
#
# Warnings and sanitizers shared by every target.  Warnings are errors only in
# CI (HVO_WERROR), so a newer compiler never blocks a user's build.
option(HVO_WERROR "Treat warnings as errors" OFF)

add_compile_options(-Wall -Wextra)
if(HVO_WERROR)
  add_compile_options(-Werror)
endif()

if(HVO_SANITIZE)
  add_compile_options(-fsanitize=${HVO_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${HVO_SANITIZE})
endif()

# Assertions stay on in RelWithDebInfo: the dev preset is for developing.
if(HVO_ASSERTIONS)
  string(REPLACE "-DNDEBUG" "" CMAKE_CXX_FLAGS_RELWITHDEBINFO "${CMAKE_CXX_FLAGS_RELWITHDEBINFO}")
  string(REPLACE "-DNDEBUG" "" CMAKE_C_FLAGS_RELWITHDEBINFO "${CMAKE_C_FLAGS_RELWITHDEBINFO}")
endif()

# Prefer lld when the compiler is clang: linking against LLVM's static
# libraries is the slowest step of the build.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  find_program(HVO_LLD NAMES ld.lld-19 ld.lld)
  if(HVO_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
endif()

# Fuzzing (fuzz/): every object that a libFuzzer target links, the model
# included, must carry coverage instrumentation, or libFuzzer sees only the
# target's own few edges.  fuzz/build.sh turns this off because OSS-Fuzz's
# $CFLAGS already carry the instrumentation of the build being made.
option(HVO_FUZZ_INSTRUMENT "With HVO_BUILD_FUZZERS, compile everything with -fsanitize=fuzzer-no-link" ON)
set(HVO_FUZZ_ENGINE "-fsanitize=fuzzer" CACHE STRING
    "Link flags of the fuzzing engine for the hvo_fuzz_* targets ($LIB_FUZZING_ENGINE in OSS-Fuzz)")
if(HVO_BUILD_FUZZERS AND HVO_FUZZ_INSTRUMENT)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HVO_BUILD_FUZZERS needs clang (libFuzzer); this is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=fuzzer-no-link)
endif()
