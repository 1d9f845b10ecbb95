# SPDX-License-Identifier: MIT
# Runs one interop test file with `node --test`, after checking that the pinned SDK is installed.
# cmake -DNODE=<node> -DDIR=<tests/interop> -DTEST=<file.test.mjs> -P run-node-test.cmake
if(NOT EXISTS "${DIR}/node_modules/@firebase/database/package.json")
    message(FATAL_ERROR "The Firebase JS SDK is not installed in ${DIR}/node_modules. "
        "Run ./test.sh once (it runs `npm ci` there), or `cd tests/interop && npm ci`.")
endif()
# A hung test fails on its own (with its name) well before the ctest TIMEOUT kills the whole file.
execute_process(COMMAND "${NODE}" --test --test-reporter=spec --test-timeout=60000 "${TEST}"
    WORKING_DIRECTORY "${DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "node --test ${TEST} failed (${rc})")
endif()
