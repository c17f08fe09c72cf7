# rfarm_module(NAME <name> [DEPS targets...])
# Declares the static library rfarm_<name> from every .cpp at the module's top and in its detail/.
# Headers are included as "<module>/<file>.h" from the repository root.
function(rfarm_module)
  cmake_parse_arguments(M "" "NAME" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS
    ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/detail/*.cpp)
  add_library(rfarm_${M_NAME} STATIC ${_srcs})
  target_include_directories(rfarm_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(rfarm_${M_NAME} PUBLIC ${M_DEPS} PRIVATE rfarm_warnings ${M_PRIVATE_DEPS})
endfunction()
