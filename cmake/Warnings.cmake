# Compiler warnings for every ringtrain target, and the helper that declares one test binary.

function(ringtrain_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
endfunction()

# ringtrain_test(NAME SOURCES... [LABELS label...]): one GoogleTest binary, registered with CTest.
function(ringtrain_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ringtrain_core ringtrain_test_support GTest::gtest_main)
  ringtrain_warnings(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS fast)
  endif()
  # Tests run side by side on few cores: OpenMP threads sleep rather than spin while they wait.
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE"
                       DISCOVERY_TIMEOUT 60)
endfunction()
