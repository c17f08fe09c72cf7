# Precompiled headers for the few heavy third-party headers that nearly every translation unit of a
# target includes (GoogleTest, CLI11, nlohmann/json). Parsing them dominates the compile time of the
# test suites and the CLI on a 2-core CI machine; a per-target PCH parses them once per target.
# -DRFARM_PCH=OFF builds without (the sanitizer build does, so a missing #include still shows up).
option(RFARM_PCH "Precompile heavy third-party headers per target" ON)

# rfarm_precompile(<target> <header>...): headers as written in an #include, e.g. <gtest/gtest.h>.
function(rfarm_precompile target)
  if(RFARM_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()
