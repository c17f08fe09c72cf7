# Under ctest, the ledger's PostgreSQL test cases share one server for the whole run (a ctest
# fixture started before the first of them and stopped after the last): ctest starts every test
# case as its own process, and a server per process would add ~3-8 s to each of ~30 cases, twice
# in CI (the sanitizer build and the normal one). Each case still makes a fresh database; the test
# binary run by hand starts its own server (tests/support/pg_testbed.h).
set(_rfarm_pg_dir ${CMAKE_CURRENT_BINARY_DIR}/pg-ledger)
add_test(NAME ledger_pg_server_start COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ledger/pg_server.sh start ${_rfarm_pg_dir})
add_test(NAME ledger_pg_server_stop COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ledger/pg_server.sh stop ${_rfarm_pg_dir})
set_tests_properties(ledger_pg_server_start PROPERTIES FIXTURES_SETUP rfarm_ledger_pg LABELS unit TIMEOUT 120)
set_tests_properties(ledger_pg_server_stop PROPERTIES FIXTURES_CLEANUP rfarm_ledger_pg LABELS unit TIMEOUT 120)
# gtest_discover_tests names the cases only at ctest time: this include file runs after the
# discovered list (rfarm_ledger_tests_TESTS) and ties the PostgreSQL cases to the fixture.
set(_rfarm_pg_include ${CMAKE_CURRENT_BINARY_DIR}/rfarm_ledger_pg_fixture.cmake)
file(WRITE ${_rfarm_pg_include} "
if(DEFINED rfarm_ledger_tests_TESTS)
  set(_pg \${rfarm_ledger_tests_TESTS})
  list(FILTER _pg INCLUDE REGEX \"[Pp]ostgres|SimulationBackends\")
  if(_pg)
    set_tests_properties(\${_pg} PROPERTIES FIXTURES_REQUIRED rfarm_ledger_pg ENVIRONMENT \"RFARM_PG_TESTBED=${_rfarm_pg_dir}\")
  endif()
endif()
")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${_rfarm_pg_include})
