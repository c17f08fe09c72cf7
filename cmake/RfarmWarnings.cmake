# Compiler warnings and hardening shared by every rfarm target.
add_library(rfarm_warnings INTERFACE)
target_compile_options(rfarm_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wformat=2 -Wimplicit-fallthrough -fstack-protector-strong>)
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug" AND NOT RFARM_SANITIZE)
  target_compile_definitions(rfarm_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:_FORTIFY_SOURCE=2>)
endif()

if(RFARM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
