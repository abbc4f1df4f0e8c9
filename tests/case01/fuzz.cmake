# Fuzz targets (tests/fuzz.cmake): each replays its seed corpus with any
# compiler (case01.NAME_corpus) and, with clang, explores new inputs under
# libFuzzer: 10,000 from a fixed seed (case01.NAME_short), open-ended for
# 20 s in make fuzz (case01.NAME_long).
set(C1_SRC ${CMAKE_SOURCE_DIR}/case01_training_loop)
set(C1_COMMON ${CMAKE_SOURCE_DIR}/common)

# The IDX reader, plain and gzipped (idx.c is compiled into the target, with
# zlib when the build has it: the header below says so).
if(CS_HAVE_ZLIB)
  set(c1_fuzz_zlib 1)
  set(c1_fuzz_libs z)
else()
  set(c1_fuzz_zlib 0)
  set(c1_fuzz_libs "")
endif()
set(C1_FUZZ_CONFIG ${CMAKE_CURRENT_BINARY_DIR}/fuzz_config)
file(CONFIGURE OUTPUT ${C1_FUZZ_CONFIG}/fuzz_idx_config.h
     CONTENT "#define C1_FUZZ_HAVE_ZLIB ${c1_fuzz_zlib}\n")
cs_fuzz_target(PREFIX case01 NAME fuzz_idx
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_idx.c ${C1_COMMON}/cs_console.c ${C1_COMMON}/cs_outfile.c
          ${C1_COMMON}/cs_files.c
  INCLUDES ${C1_SRC} ${C1_COMMON} ${CMAKE_SOURCE_DIR}/tests/common ${C1_FUZZ_CONFIG}
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus_idx
  DEFINE_STANDALONE C1_FUZZ_STANDALONE
  SECONDS 20
  RUNS 6000                  # about 2,700 inputs a second (each a file written and read)
  DEPENDS ${C1_SRC}/idx.c ${C1_SRC}/idx.h ${C1_COMMON}/cs_console.h ${C1_COMMON}/cs_outfile.h
          ${CMAKE_SOURCE_DIR}/tests/common/cs_fuzz_replay.h
  LIBS ${c1_fuzz_libs}
  FUZZ_ARGS -close_fd_mask=2 -max_len=20000)

# The command line: the suite's parser with case01's options.
cs_fuzz_target(PREFIX case01 NAME fuzz_cli
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cli.c ${C1_SRC}/cli.c ${C1_COMMON}/cs_cli.c
          ${C1_COMMON}/cs_console.c ${C1_COMMON}/cs_blas_threads.c
  INCLUDES ${C1_SRC} ${C1_COMMON} ${CMAKE_SOURCE_DIR}/tests/common
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus_cli
  DEFINE_STANDALONE C1_FUZZ_STANDALONE
  SECONDS 20
  DEPENDS ${C1_SRC}/cli.h ${C1_SRC}/ladder.h ${C1_SRC}/ladder_table.h ${C1_COMMON}/cs_cli.h
          ${C1_COMMON}/cs_console.h
          ${CMAKE_SOURCE_DIR}/tests/common/cs_fuzz_replay.h
  LIBS m
  FUZZ_ARGS -max_len=512)
