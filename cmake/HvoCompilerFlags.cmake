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
