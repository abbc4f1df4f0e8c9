# Fuzz targets (tests/fuzz.cmake). The safetensors reader: fuzz_st_replay replays
# the seed corpus with any compiler (lab_resnet.fuzz_st_corpus); with clang,
# libFuzzer explores new inputs under AddressSanitizer and
# UndefinedBehaviorSanitizer: 10,000 from a fixed seed (lab_resnet.fuzz_st_short),
# open-ended for 20 s in make fuzz (fuzz_st_long).
# The reader prints one line per rejected input, and nearly every fuzzed
# input is rejected: -close_fd_mask=2 sends the target's stderr nowhere,
# while libFuzzer and the sanitizers keep reporting on their own copy of it.
# (An invariant's message is then hidden, not its stack trace; replay the
# crash input with fuzz_st or fuzz_st_replay to see it.)
set(RN_SRC ${CMAKE_SOURCE_DIR}/lab_resnet)
set(RN_COMMON ${CMAKE_SOURCE_DIR}/common)
cs_fuzz_target(PREFIX lab_resnet NAME fuzz_st
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_st.c ${RN_SRC}/safetensors.c ${RN_SRC}/json_scan.c
          ${RN_COMMON}/cs_files.c
          ${RN_COMMON}/cs_console.c ${RN_COMMON}/cs_outfile.c
  INCLUDES ${RN_SRC} ${RN_COMMON} ${CMAKE_SOURCE_DIR}/tests/common
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus
  DEFINE_STANDALONE RN_FUZZ_STANDALONE
  SECONDS 20
  DEPENDS ${RN_SRC}/safetensors.h ${RN_SRC}/json_scan.h ${RN_COMMON}/cs_files.h ${RN_COMMON}/cs_console.h
          ${RN_COMMON}/cs_outfile.h ${CMAKE_SOURCE_DIR}/tests/common/cs_fuzz_replay.h
  LIBS m
  FUZZ_ARGS -close_fd_mask=2)

# The CIFAR-10 reader (cifar.c): bytes written to a file, read whole and in
# part; taken exactly when the size and every label say so, byte for byte.
cs_fuzz_target(PREFIX lab_resnet NAME fuzz_cifar
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cifar.c ${RN_SRC}/cifar.c ${RN_COMMON}/cs_files.c
          ${RN_COMMON}/cs_console.c ${RN_COMMON}/cs_outfile.c ${RN_COMMON}/cs_memory.c
          ${RN_COMMON}/cs_rng.c ${RN_COMMON}/cs_fault.c
  INCLUDES ${RN_SRC} ${RN_COMMON} ${CMAKE_SOURCE_DIR}/tests/common
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus_cifar
  DEFINE_STANDALONE RN_FUZZ_STANDALONE
  SECONDS 20
  RUNS 6000                  # about 1,800 inputs a second (each a file written and read twice)
  DEPENDS ${RN_SRC}/cifar.h ${RN_COMMON}/cs_files.h ${RN_COMMON}/cs_console.h ${RN_COMMON}/cs_outfile.h
          ${RN_COMMON}/cs_memory.h ${RN_COMMON}/cs_rng.h ${CMAKE_SOURCE_DIR}/tests/common/cs_fuzz_replay.h
  LIBS m
  FUZZ_ARGS -close_fd_mask=2 -max_len=20000)

# The weight loader (rn_model_load_file): a parsed file, or the model's own
# tensors changed by the input; the answer the rules of model.h give, the
# file's values on success, an unchanged model on a refusal. ResNet-18's
# 11 M parameters live in host memory (a backend of two memcpys).
cs_fuzz_target(PREFIX lab_resnet NAME fuzz_model
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_model.c ${RN_SRC}/model.c ${RN_SRC}/arena.c
          ${RN_SRC}/safetensors.c ${RN_SRC}/json_scan.c ${RN_COMMON}/cs_files.c ${RN_SRC}/gpu_backend_none.c
          ${RN_COMMON}/cs_console.c ${RN_COMMON}/cs_outfile.c ${RN_COMMON}/cs_memory.c
          ${RN_COMMON}/cs_rng.c ${RN_COMMON}/cs_fault.c
  INCLUDES ${RN_SRC} ${RN_COMMON} ${CMAKE_SOURCE_DIR}/tests/common
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus_model
  DEFINE_STANDALONE RN_FUZZ_STANDALONE
  SECONDS 20
  RUNS 5000                  # about 1,250 inputs a second under the sanitizers, each on an 11 M-parameter model
  DEPENDS ${RN_SRC}/model.h ${RN_SRC}/arena.h ${RN_SRC}/backend.h ${RN_SRC}/safetensors.h
          ${RN_SRC}/json_scan.h ${RN_COMMON}/cs_files.h ${RN_SRC}/device_mem.h ${RN_COMMON}/cs_console.h
          ${RN_COMMON}/cs_outfile.h ${RN_COMMON}/cs_memory.h ${RN_COMMON}/cs_rng.h
          ${CMAKE_SOURCE_DIR}/tests/common/cs_fuzz_replay.h
  LIBS m
  FUZZ_ARGS -close_fd_mask=3 -max_len=4096 -rss_limit_mb=4096)

# The replay holds the seed corpus to its names (cs_fuzz_replay.h): a refused
# file named valid_* must fail it (a reader that refused everything would
# otherwise pass).
add_test(NAME lab_resnet.fuzz_st_names_checked
  COMMAND bash -c "cp \"$1\" \"$2/valid_but_bad.safetensors\" && \"$0\" \"$2/valid_but_bad.safetensors\" 2>&1 | grep -q 'was refused, its name says it must be accepted' && ! \"$0\" \"$2/valid_but_bad.safetensors\""
          $<TARGET_FILE:fuzz_st_replay> ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus/bad_dtype.safetensors
          ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(lab_resnet.fuzz_st_names_checked PROPERTIES LABELS "lab_resnet")
