# Fuzzing the safetensors reader (tests/fuzz.cmake): fuzz_st_replay replays
# the seed corpus with any compiler (lab_resnet.fuzz_st_corpus); with clang,
# libFuzzer explores new inputs for 20 s under AddressSanitizer and
# UndefinedBehaviorSanitizer (lab_resnet.fuzz_st_short).
# The reader prints one line per rejected input, and nearly every fuzzed
# input is rejected: -close_fd_mask=2 sends the target's stderr nowhere,
# while libFuzzer and the sanitizers keep reporting on their own copy of it.
# (An invariant's message is then hidden, not its stack trace; replay the
# crash input with fuzz_st or fuzz_st_replay to see it.)
set(LR_SRC ${CMAKE_SOURCE_DIR}/lab_resnet)
set(LR_COMMON ${CMAKE_SOURCE_DIR}/common)
cs_fuzz_target(PREFIX lab_resnet NAME fuzz_st
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_st.c ${LR_SRC}/safetensors.c ${LR_SRC}/json_scan.c
          ${LR_COMMON}/cs_console.c ${LR_COMMON}/cs_outfile.c
  INCLUDES ${LR_SRC} ${LR_COMMON} ${CMAKE_SOURCE_DIR}/tests/common
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus
  DEFINE_STANDALONE LR_FUZZ_STANDALONE
  SECONDS 20
  DEPENDS ${LR_SRC}/safetensors.h ${LR_SRC}/json_scan.h ${LR_COMMON}/cs_console.h
          ${LR_COMMON}/cs_outfile.h ${CMAKE_SOURCE_DIR}/tests/common/cs_fuzz_replay.h
  LIBS m
  FUZZ_ARGS -close_fd_mask=2)
