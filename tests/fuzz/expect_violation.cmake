# SPDX-License-Identifier: GPL-2.0-only
#
# Replays one fuzz input through a replay driver with HVO_FUZZ_BUGS=BUGS and
# checks the outcome:
#   MODE=found  the run must abort and its first report line must be
#               "==HVO== VIOLATION <id>" with <id> matching EXPECT
#   MODE=clean  the run (no bug switch) must finish without a report
# cmake -DREPLAY=... -DINPUT=... -DBUGS=... -DEXPECT=... -DMODE=... -P expect_violation.cmake
foreach(v REPLAY INPUT MODE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "expect_violation.cmake: -D${v}= is required")
  endif()
endforeach()
if(MODE STREQUAL "found")
  set(ENV{HVO_FUZZ_BUGS} "${BUGS}")
else()
  unset(ENV{HVO_FUZZ_BUGS})
endif()
execute_process(COMMAND ${REPLAY} ${INPUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "==HVO== VIOLATION [^ \n]+" first "${err}")
if(MODE STREQUAL "found")
  if(rc EQUAL 0 OR NOT first)
    message(FATAL_ERROR "HVO_FUZZ_BUGS=${BUGS}: no violation reported (exit ${rc})\n${err}")
  endif()
  string(REPLACE "==HVO== VIOLATION " "" id "${first}")
  if(NOT id MATCHES "^(${EXPECT})$")
    message(FATAL_ERROR "HVO_FUZZ_BUGS=${BUGS}: first violation is ${id}, expected one of ${EXPECT}\n${err}")
  endif()
  message(STATUS "HVO_FUZZ_BUGS=${BUGS}: ${id} (expected)")
else()
  if(NOT rc EQUAL 0 OR first)
    message(FATAL_ERROR "without bug switches the input must run clean (exit ${rc})\n${err}")
  endif()
  message(STATUS "clean without bug switches")
endif()
