# SPDX-License-Identifier: MIT
# Per-target warnings and Qt hygiene defines (docs/house-style.md §11): never global, so third-party code is unaffected.
option(LARK_WERROR "Treat warnings as errors (CI)" OFF)

function(lark_set_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Woverloaded-virtual -Wsuggest-override -Werror=return-type)
    if(LARK_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    target_compile_definitions(${target} PRIVATE
        QT_NO_CAST_FROM_ASCII QT_NO_URL_CAST_FROM_STRING QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
        QT_NO_KEYWORDS QT_NO_FOREACH)
endfunction()
