# SPDX-License-Identifier: MIT
# One fuzz ctest: cmake -DFUZZER=… -DOPTIONS="…" -DCORPUS=… -DSCRATCH=… -DARTIFACTS=… -P run-fuzz.cmake
# libFuzzer writes new units into the first corpus directory it is given: a fresh scratch one, so the committed
# corpus (read, and replayed in full first) stays as it is.
file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH} ${ARTIFACTS})
separate_arguments(options UNIX_COMMAND "${OPTIONS}")
execute_process(COMMAND ${FUZZER} ${options} -artifact_prefix=${ARTIFACTS}/ ${SCRATCH} ${CORPUS}
    RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FUZZER} failed (${rc}); the input that broke it is in ${ARTIFACTS}")
endif()
