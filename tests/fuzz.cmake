# Fuzz targets (libFuzzer), one call each. A target is a C file defining
# LLVMFuzzerTestOneInput plus a plain main behind a define (see
# tests/case02/fuzz_scan.c). cs_fuzz_target builds it two ways:
#  - always, with whatever compiler builds the rest: NAME_replay, the target
#    with its plain main; the test PREFIX.NAME_corpus replays the seed corpus
#    once, so the invariants are checked even where libFuzzer is missing;
#  - with clang (libFuzzer is clang's): NAME, under AddressSanitizer and
#    UndefinedBehaviorSanitizer; the test PREFIX.NAME_short explores new
#    inputs for SECONDS seconds. It is built by a custom command, since the
#    project's compiler may be gcc.
#
#   cs_fuzz_target(PREFIX case02 NAME fuzz_scan
#                  SOURCES fuzz_scan.c rules.c ...     absolute paths: the target and the code it tests
#                  INCLUDES dir ...                    include directories
#                  CORPUS dir                          the seed inputs (only read)
#                  DEFINE_STANDALONE C2_FUZZ_STANDALONE
#                  SECONDS 20
#                  DEPENDS header.h ...                headers the clang build must watch
#                  LIBS m ...                          libraries both builds link (optional)
#                  FUZZ_ARGS -flag=value ...)          extra libFuzzer flags (optional)
#
# New inputs go to NAME_runs/work in the build folder (kept between runs, so
# coverage accumulates); a crash leaves its input in NAME_runs/artifacts/
# (rerun it: NAME NAME_runs/artifacts/crash-...).

# Some clang builds lack compiler-rt (and so libFuzzer): probe once per build folder.
function(cs_fuzz_probe)
  find_program(CLANG clang)
  if(NOT CLANG OR DEFINED CS_HAVE_LIBFUZZER)
    return()
  endif()
  set(probe ${CMAKE_BINARY_DIR}/CMakeFiles/libfuzzer_probe.c)
  file(WRITE ${probe} "#include <stddef.h>\n#include <stdint.h>\n"
       "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND ${CLANG} -fsanitize=fuzzer,address,undefined ${probe}
                          -o ${CMAKE_BINARY_DIR}/CMakeFiles/libfuzzer_probe
                  RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(probe_rc EQUAL 0)
    set(CS_HAVE_LIBFUZZER ON CACHE INTERNAL "clang links -fsanitize=fuzzer")
  else()
    set(CS_HAVE_LIBFUZZER OFF CACHE INTERNAL "clang links -fsanitize=fuzzer")
  endif()
endfunction()

function(cs_fuzz_target)
  cmake_parse_arguments(FZ "" "PREFIX;NAME;CORPUS;DEFINE_STANDALONE;SECONDS"
                        "SOURCES;INCLUDES;DEPENDS;LIBS;FUZZ_ARGS" ${ARGN})
  foreach(required PREFIX NAME SOURCES CORPUS DEFINE_STANDALONE SECONDS)
    if(NOT FZ_${required})
      message(FATAL_ERROR "cs_fuzz_target: ${required} is missing")
    endif()
  endforeach()
  file(GLOB seeds CONFIGURE_DEPENDS ${FZ_CORPUS}/*)

  # The replay build: any compiler, the seed corpus once.
  add_executable(${FZ_NAME}_replay ${FZ_SOURCES})
  target_compile_definitions(${FZ_NAME}_replay PRIVATE ${FZ_DEFINE_STANDALONE})
  # built without OpenMP: the parsers' parallel loops run on one thread
  target_compile_options(${FZ_NAME}_replay PRIVATE -Wno-unknown-pragmas)
  target_include_directories(${FZ_NAME}_replay PRIVATE ${FZ_INCLUDES})
  if(FZ_LIBS)
    target_link_libraries(${FZ_NAME}_replay PRIVATE ${FZ_LIBS})
  endif()
  cs_register_target(${FZ_NAME}_replay)
  add_test(NAME ${FZ_PREFIX}.${FZ_NAME}_corpus COMMAND ${FZ_NAME}_replay ${seeds})
  set_tests_properties(${FZ_PREFIX}.${FZ_NAME}_corpus PROPERTIES LABELS "unit;${FZ_PREFIX}" TIMEOUT 60)

  # The libFuzzer build: clang only.
  cs_fuzz_probe()
  if(NOT CLANG OR NOT CS_HAVE_LIBFUZZER)
    message(STATUS "${FZ_PREFIX}: clang with libFuzzer not found: the test "
                   "${FZ_PREFIX}.${FZ_NAME}_short is not added (apt-get install clang)")
    return()
  endif()
  set(fuzz_bin ${CMAKE_CURRENT_BINARY_DIR}/${FZ_NAME})
  list(TRANSFORM FZ_INCLUDES PREPEND -I OUTPUT_VARIABLE include_flags)
  list(TRANSFORM FZ_LIBS PREPEND -l OUTPUT_VARIABLE lib_flags)
  add_custom_command(OUTPUT ${fuzz_bin}
    COMMAND ${CLANG} -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer
            -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
            -Wall -Wextra -Wno-unknown-pragmas ${include_flags} ${FZ_SOURCES} ${lib_flags} -o ${fuzz_bin}
    DEPENDS ${FZ_SOURCES} ${FZ_DEPENDS}
    COMMENT "Building the ${FZ_PREFIX} fuzz target ${FZ_NAME} with clang (libFuzzer)"
    VERBATIM)
  add_custom_target(${FZ_NAME} ALL DEPENDS ${fuzz_bin})
  cs_register_target(${FZ_NAME})
  set(run_dir ${CMAKE_CURRENT_BINARY_DIR}/${FZ_NAME}_runs)
  file(MAKE_DIRECTORY ${run_dir})
  list(JOIN FZ_FUZZ_ARGS " " extra)
  math(EXPR timeout "${FZ_SECONDS} + 100")
  add_test(NAME ${FZ_PREFIX}.${FZ_NAME}_short
    COMMAND bash -c "mkdir -p work artifacts && exec \"$0\" -max_total_time=${FZ_SECONDS} -artifact_prefix=artifacts/ -print_final_stats=1 ${extra} work \"$1\""
            ${fuzz_bin} ${FZ_CORPUS})
  set_tests_properties(${FZ_PREFIX}.${FZ_NAME}_short PROPERTIES LABELS "${FZ_PREFIX};fuzz"
                       TIMEOUT ${timeout} WORKING_DIRECTORY ${run_dir})
endfunction()
