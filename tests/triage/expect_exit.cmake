# SPDX-License-Identifier: GPL-2.0-only
#
# Runs CMD (a |-separated argv) and checks its exit status is RC and that
# REGEX matches stdout+stderr.  CTest alone can check one or the other.
string(REPLACE "|" ";" _argv "${CMD}")
execute_process(COMMAND ${_argv} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT "${_rc}" STREQUAL "${RC}")
  message(FATAL_ERROR "exit status ${_rc}, expected ${RC}\n${_out}${_err}")
endif()
if(NOT "${_out}${_err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "output does not match '${REGEX}':\n${_out}${_err}")
endif()
