# Fuzz targets (libFuzzer), one call each. A target is a C file defining
# LLVMFuzzerTestOneInput plus a plain main behind a define (see
# tests/case02/fuzz_scan.c). cs_fuzz_target builds it two ways:
#  - always, with whatever compiler builds the rest: NAME_replay, the target
#    with its plain main; the test PREFIX.NAME_corpus replays the seed corpus
#    once, so the invariants are checked even where libFuzzer is missing;
#  - with clang (libFuzzer is clang's): NAME, under AddressSanitizer and
#    UndefinedBehaviorSanitizer, built by a custom command, since the
#    project's compiler may be gcc. Two tests run it:
#      PREFIX.NAME_short (label fuzz, in `make check`): RUNS inputs from a
#        fixed seed, starting each time from the seed corpus alone: it no
#        longer inherits inputs from earlier runs, so a commit is not failed
#        by a crash that another run's random search happened to reach (the
#        search is not bit-for-bit repeatable: two runs here differed by one
#        covered edge in 480);
#      PREFIX.NAME_long (label fuzz_long, `make fuzz`, not in `make check`):
#        open-ended search, a random seed for SECONDS seconds, its corpus
#        kept between runs so coverage accumulates.
#
#   cs_fuzz_target(PREFIX case02 NAME fuzz_scan
#                  SOURCES fuzz_scan.c rules.c ...     absolute paths: the target and the code it tests
#                  INCLUDES dir ...                    include directories
#                  CORPUS dir                          the seed inputs (only read)
#                  DEFINE_STANDALONE C2_FUZZ_STANDALONE
#                  SECONDS 20                          the long run's length
#                  RUNS 10000                          the short run's inputs (optional; default 10000)
#                  DEPENDS header.h ...                headers the clang build must watch
#                  LIBS m ...                          libraries both builds link (optional)
#                  FUZZ_ARGS -flag=value ...)          extra libFuzzer flags (optional)
#
# The long run's new inputs go to NAME_runs/work in the build folder; a
# crash of either run leaves its input in NAME_runs/artifacts/ (rerun it:
# NAME NAME_runs/artifacts/crash-...; then keep it in the seed corpus).

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
  cmake_parse_arguments(FZ "" "PREFIX;NAME;CORPUS;DEFINE_STANDALONE;SECONDS;RUNS"
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
  if(NOT FZ_RUNS)
    set(FZ_RUNS 10000)
  endif()
  math(EXPR timeout "${FZ_SECONDS} + 100")
  # short: a fresh folder for the inputs it finds (the seeds only are read)
  add_test(NAME ${FZ_PREFIX}.${FZ_NAME}_short
    COMMAND bash -c "rm -rf short_work && mkdir -p short_work artifacts && exec \"$0\" -seed=1 -runs=${FZ_RUNS} -artifact_prefix=artifacts/ -print_final_stats=1 ${extra} short_work \"$1\""
            ${fuzz_bin} ${FZ_CORPUS})
  set_tests_properties(${FZ_PREFIX}.${FZ_NAME}_short PROPERTIES LABELS "${FZ_PREFIX};fuzz"
                       TIMEOUT 300 WORKING_DIRECTORY ${run_dir})
  add_test(NAME ${FZ_PREFIX}.${FZ_NAME}_long
    COMMAND bash -c "mkdir -p work artifacts && exec \"$0\" -max_total_time=${FZ_SECONDS} -artifact_prefix=artifacts/ -print_final_stats=1 ${extra} work \"$1\""
            ${fuzz_bin} ${FZ_CORPUS})
  set_tests_properties(${FZ_PREFIX}.${FZ_NAME}_long PROPERTIES LABELS "${FZ_PREFIX};fuzz_long"
                       TIMEOUT ${timeout} WORKING_DIRECTORY ${run_dir})
endfunction()
