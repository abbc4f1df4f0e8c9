# case01_training_loop: equivalence, real data, fault, smoke run, bad input.
set(C1 $<TARGET_FILE:case01_training_loop>)
set(EXPECT ${CMAKE_SOURCE_DIR}/tests/run_expect.sh)
set(T ${CMAKE_CURRENT_BINARY_DIR})
# Odd sizes on purpose: no multiple of any block or tile size.
# --no-ceilings: the machine's ceilings (about 1 s, 512 MB) are not what these test.
set(C1_SMALL --hidden1 33 --hidden2 17 --batch 8 --samples 200 --steps 4 --slow-steps 3
    --repeat 1 --warmup 0 --no-epoch --no-plot --no-ceilings)

function(c1_test name)
  add_test(NAME case01.${name} COMMAND bash ${EXPECT} ${ARGN})
  set_tests_properties(case01.${name} PROPERTIES LABELS "case01" TIMEOUT 300 SKIP_RETURN_CODE 77)
endfunction()

# Every CPU variant trains the same model as cpu_slow.
c1_test(equivalence_cpu --rm ${T}/eq_cpu --code 0
  --stdout "cpu_slow +the reference: REF" --stdout "cpu_batched +change rel. L2 error .*PASS"
  --stdout "cpu_fast +change rel. L2 error .*PASS" --no-stdout "FAIL" --file ${T}/eq_cpu/results.csv
  -- ${C1} --device cpu ${C1_SMALL} --out ${T}/eq_cpu)
# Every GPU variant, when a device is there (else skipped).
c1_test(equivalence_gpu --rm ${T}/eq_gpu --code 0 --skip-if "no CUDA device|CUDA was not built"
  --stdout "gpu_slow +change rel. L2 error .*PASS" --stdout "gpu_batched +change rel. L2 error .*PASS"
  --stdout "gpu_resident +change rel. L2 error .*PASS" --stdout "gpu_async +change rel. L2 error .*PASS"
  --stdout "gpu_fast +change rel. L2 error .*PASS" --no-stdout "FAIL"
  -- ${C1} --device gpu ${C1_SMALL} --out ${T}/eq_gpu)
set_tests_properties(case01.equivalence_gpu PROPERTIES LABELS "case01;gpu")
# gpu_fast streaming its batches (a 1 MB data budget forces it) and without the graph.
c1_test(gpu_fast_streaming --rm ${T}/eq_stream --code 0 --skip-if "no CUDA device|CUDA was not built"
  --env C1_NO_GRAPH=1
  --stdout "gpu_fast +change rel. L2 error .*PASS" --no-stdout "FAIL"
  -- ${C1} --device gpu --variant gpu_fast --gpu-data-budget 1 --hidden1 33 --hidden2 17 --batch 8
     --samples 3000 --steps 4 --slow-steps 3 --repeat 1 --warmup 0 --no-epoch --no-plot --out ${T}/eq_stream)
set_tests_properties(case01.gpu_fast_streaming PROPERTIES LABELS "case01;gpu")

# Real MNIST-format data (Debian's dataset-fashion-mnist, gzipped IDX files).
set(FMNIST /usr/share/datasets/fashion-mnist)
if(CS_HAVE_ZLIB AND EXISTS ${FMNIST}/train-images-idx3-ubyte.gz)
  c1_test(fashion_mnist --rm ${T}/fmnist --code 0
    --stdout "60000 images of 28x28" --stdout "cpu_fast +change rel. L2 error .*PASS" --no-stdout "FAIL"
    -- ${C1} --data ${FMNIST} --device cpu --hidden1 64 --hidden2 32 --batch 64 --steps 5
       --slow-steps 2 --repeat 1 --warmup 0 --no-epoch --no-plot --out ${T}/fmnist)
endif()

# The checks can fail, on every rung: a gradient 1.01x too large (CS_FAULT_INJECT=<rung>)
# must fail the weights' check (its change along the reference's: +7e-3 at this size, +1.0e-2
# at the default, against a tolerance of 2e-4), a loss averaged over batch - 1 samples
# (<rung>_loss, 8/7 here) the loss's;
# each gives FAIL and exit code 1. The GPU rungs' run when a device is there.
foreach(rung cpu_batched cpu_fast gpu_slow gpu_batched gpu_resident gpu_async gpu_fast)
  set(dev cpu)
  if(rung MATCHES "^gpu_")
    set(dev gpu)
  endif()
  c1_test(check_catches_gradient_fault_${rung} --rm ${T}/fault_${rung} --code 1 --env CS_FAULT_INJECT=${rung}
    --skip-if "no CUDA device|CUDA was not built"
    --stdout "${rung} +change rel. L2 error .*along \\+[0-9.]+e-0[23].*FAIL" --stderr "correctness check FAILED"
    -- ${C1} --device ${dev} --variant ${rung} ${C1_SMALL} --out ${T}/fault_${rung})
  c1_test(check_catches_loss_fault_${rung} --rm ${T}/fault_loss_${rung} --code 1 --env CS_FAULT_INJECT=${rung}_loss
    --skip-if "no CUDA device|CUDA was not built"
    --stdout "${rung} +change rel. L2 error [0-9.e+-]+, along [-+][0-9.]+e-[01][0-9], loss 1\\.4[0-9]e-01.*FAIL"
    --stderr "correctness check FAILED"
    -- ${C1} --device ${dev} --variant ${rung} ${C1_SMALL} --out ${T}/fault_loss_${rung})
  if(dev STREQUAL "gpu")
    set_tests_properties(case01.check_catches_gradient_fault_${rung} case01.check_catches_loss_fault_${rung}
                         PROPERTIES LABELS "case01;gpu")
  endif()
endforeach()

# --quick: the whole case, seven steps, files and charts' scripts.
c1_test(quick --rm ${T}/quick --code 0
  --stdout "== 1\\. Scenario" --stdout "== 4\\. Investigation" --stdout "== 7\\. Key lessons"
  --stdout "One real epoch with" --no-stdout "FAIL"
  --file ${T}/quick/results.csv --file ${T}/quick/results.json --file ${T}/quick/trace.json
  --file ${T}/quick/ladder.gp --file ${T}/quick/phases_cpu.gp --file ${T}/quick/loss_curves.gp
  --file ${T}/quick/loss_curves.dat --file ${T}/quick/epoch.gp
  -- ${C1} --quick --no-plot --out ${T}/quick)
c1_test(brief --rm ${T}/brief --code 0 --stdout "cpu_slow" --no-stdout "== 1\\. Scenario"
  -- ${C1} --quick --brief --device cpu --out ${T}/brief)
c1_test(help --code 0 --stdout "--hidden1 N" --stdout "--data DIR" --stdout "gpu_fast" -- ${C1} --help)
c1_test(version --code 0 --stdout "case01_training_loop" -- ${C1} --version)

# Bad input: one line on stderr, exit 2 (3 for a missing GPU), no output.
file(MAKE_DIRECTORY ${T}/not_idx)
file(WRITE ${T}/not_idx/train-images-idx3-ubyte "this is a text file, not an IDX file\n")
file(WRITE ${T}/not_idx/train-labels-idx1-ubyte "neither is this\n")
c1_test(bad_magic --code 2 --stderr-lines 1 --stderr "train-images-idx3-ubyte.*magic" --absent ${T}/bad
  -- ${C1} --data ${T}/not_idx --out ${T}/bad)
c1_test(bad_missing_data --code 2 --stderr-lines 1 --stderr "no_such_dir" --absent ${T}/bad
  -- ${C1} --data ${T}/no_such_dir --out ${T}/bad)
c1_test(bad_hidden_zero --code 2 --stderr-lines 1 --stderr "--hidden1" --absent ${T}/bad
  -- ${C1} --hidden1 0 --out ${T}/bad)
c1_test(bad_hidden_absurd --code 2 --stderr-lines 1 --stderr "--hidden2" --absent ${T}/bad
  -- ${C1} --hidden2 1000000 --out ${T}/bad)
c1_test(bad_batch_zero --code 2 --stderr-lines 1 --stderr "--batch" --absent ${T}/bad
  -- ${C1} --batch 0 --out ${T}/bad)
c1_test(bad_batch_larger_than_data --code 2 --stderr-lines 1 --stderr "--batch 300 is larger than the data set"
  --absent ${T}/bad -- ${C1} --samples 100 --batch 300 --out ${T}/bad)
c1_test(bad_lr_not_a_number --code 2 --stderr-lines 1 --stderr "--lr" --absent ${T}/bad
  -- ${C1} --lr fast --out ${T}/bad)
c1_test(bad_lr_zero --code 2 --stderr-lines 1 --stderr "--lr" --absent ${T}/bad
  -- ${C1} --lr 0 --out ${T}/bad)
c1_test(bad_variant --code 2 --stderr-lines 1 --stderr "unknown variant" --absent ${T}/bad
  -- ${C1} --variant cpu_fastest --out ${T}/bad)
c1_test(device_gpu_without_gpu --code 3 --stderr-lines 1 --env CS_DISABLE_GPU=1
  --stderr "--device gpu: (GPU disabled|CUDA was not built|no CUDA device)" --absent ${T}/bad
  -- ${C1} --device gpu --out ${T}/bad)
c1_test(bad_out_dir --code 2 --stderr-lines 1 --stderr "/proc/case01_cannot_write"
  -- ${C1} --quick --out /proc/case01_cannot_write/results)

# Inputs that are not regular files: one line naming --data and the file,
# exit 2 at once (a FIFO with no writer is never waited on, /dev/zero never
# read), no output. The short timeout makes a hang a failure, not a stall.
set(SPECIAL ${T}/special)
add_test(NAME case01.special_files_setup
  COMMAND bash -c "set -e; rm -rf \"$0\"; mkdir -p \"$0/fifo_data\" \"$0/dev_data\"
    mkfifo \"$0/fifo_data/train-images-idx3-ubyte\" \"$0/fifo_out\" \"$0/fifo_as_dir\"
    printf x > \"$0/fifo_data/train-labels-idx1-ubyte\"
    ln -s /dev/zero \"$0/dev_data/train-images-idx3-ubyte.gz\"
    printf x > \"$0/dev_data/train-labels-idx1-ubyte\"
    ln -s fifo_data \"$0/link_to_fifo_data\"" ${SPECIAL})
set_tests_properties(case01.special_files_setup PROPERTIES FIXTURES_SETUP c1_special LABELS "case01")
function(c1_special_test name)
  c1_test(${name} ${ARGN})
  set_tests_properties(case01.${name} PROPERTIES FIXTURES_REQUIRED c1_special TIMEOUT 30)
endfunction()
c1_special_test(bad_data_fifo --code 2 --stderr-lines 1
  --stderr "--data: .*fifo_data/train-images-idx3-ubyte is a FIFO \\(named pipe\\), not a regular file"
  --absent ${T}/bad -- ${C1} --data ${SPECIAL}/fifo_data --out ${T}/bad)
c1_special_test(bad_data_fifo_via_symlink --code 2 --stderr-lines 1
  --stderr "--data: .*link_to_fifo_data/train-images-idx3-ubyte is a FIFO"
  --absent ${T}/bad -- ${C1} --data ${SPECIAL}/link_to_fifo_data --out ${T}/bad)
c1_special_test(bad_data_device --code 2 --stderr-lines 1
  --stderr "--data: .*dev_data/train-images-idx3-ubyte.gz is a character device, not a regular file"
  --absent ${T}/bad -- ${C1} --data ${SPECIAL}/dev_data --out ${T}/bad)
c1_special_test(bad_data_dir_is_fifo --code 2 --stderr-lines 1 --stderr "fifo_as_dir: not a directory"
  --absent ${T}/bad -- ${C1} --data ${SPECIAL}/fifo_as_dir --out ${T}/bad)
c1_special_test(bad_out_fifo --code 2 --stderr-lines 1 --stderr "fifo_out exists and is not a directory"
  -- ${C1} --quick --out ${SPECIAL}/fifo_out)

# A variant that --device excludes runs nothing: bad usage, before any work.
c1_test(bad_variant_gpu_device_cpu --code 2 --stderr-lines 1
  --stderr "--variant gpu_fast runs on the GPU, and --device cpu runs only CPU variants \\(use --device gpu or auto\\)"
  --absent ${T}/bad -- ${C1} --variant gpu_fast --device cpu --out ${T}/bad)
c1_test(bad_variant_cpu_device_gpu --code 2 --stderr-lines 1
  --stderr "--variant cpu_fast runs on the CPU, and --device gpu runs only GPU variants"
  --absent ${T}/bad -- ${C1} --device gpu --variant cpu_fast,gpu_fast --out ${T}/bad)

# Control bytes in a value are shown escaped: the error stays one line.
c1_test(bad_value_control_bytes --code 2 --stderr-lines 1
  --stderr "--hidden1: '1\\\\x0D2\\\\x0A\\\\x09' is not an integer" --absent ${T}/bad
  -- ${C1} --hidden1 "1\r2\n\t" --out ${T}/bad)
c1_test(bad_data_control_bytes --code 2 --stderr-lines 1
  --stderr "nope\\\\x0Ddir\\\\x0A: cannot open the data directory" --absent ${T}/bad
  -- ${C1} --data "nope\rdir\n" --out ${T}/bad)

# --help: one paragraph of exit codes.
add_test(NAME case01.help_one_exit_codes
  COMMAND bash -c "n=$(\"$0\" --help | grep -c 'Exit codes'); [ \"$n\" = 1 ] || { echo \"$n paragraphs\"; exit 1; }"
          ${C1})
set_tests_properties(case01.help_one_exit_codes PROPERTIES LABELS "case01")

# Threads that cannot be created (a process limit): exit 3 and one line at
# start-up, not libgomp's "Thread creation failed" and exit 1 in mid-run.
add_test(NAME case01.threads_cannot_start
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/under_nproc_limit.sh ${EXPECT}
          # LeakSanitizer needs a thread of its own at exit, which the limit
          # refuses too (SANITIZE builds): its check is off for this run only
          --env ASAN_OPTIONS=detect_leaks=0
          --code 3 --stderr-lines 1 --stderr "cannot start 4 threads \\(--threads 4\\)"
          --stderr "ulimit -u" --absent ${T}/threads_out
          -- ${C1} --quick --threads 4 --out ${T}/threads_out)
set_tests_properties(case01.threads_cannot_start PROPERTIES LABELS "case01" TIMEOUT 60
                     SKIP_RETURN_CODE 77)

# Options out of their bounds (exit 2, before any work), and the exit-3 paths:
# memory that runs out (CS_FAULT_INJECT=host_oom: every block of 1 MiB or more
# fails), a results file that cannot be written (a file size limit: the write
# fails as on a full disk; no file is left), and the GPU's own errors (out of
# device memory, a runtime error), each one line on stderr.
set(LIMIT ${CMAKE_SOURCE_DIR}/tests/with_file_limit.sh)
c1_test(bad_steps_zero --code 2 --stderr-lines 1 --stderr "--steps: 0 is out of range \\(1..100000\\)" --absent ${T}/bad
  -- ${C1} --steps 0 --out ${T}/bad)
c1_test(bad_slow_steps_too_many --code 2 --stderr-lines 1 --stderr "--slow-steps: 1001 is out of range \\(1..1000\\)"
  --absent ${T}/bad -- ${C1} --slow-steps 1001 --out ${T}/bad)
c1_test(bad_samples_zero --code 2 --stderr-lines 1 --stderr "--samples: 0 is out of range" --absent ${T}/bad
  -- ${C1} --samples 0 --out ${T}/bad)
c1_test(out_of_memory --code 3 --stderr-lines 1 --stderr "out of memory: asked for [0-9]+ bytes for" --absent ${T}/oom
  --env CS_FAULT_INJECT=host_oom -- ${C1} --quick --device cpu --no-plot --out ${T}/oom)
c1_test(results_write_fails --rm ${T}/wfail --code 3 --stderr-lines 1 --stderr "cannot write .*wfail/results.csv.*File too large"
  --absent ${T}/wfail/results.csv --absent ${T}/wfail/results.json
  -- bash ${LIMIT} 1 ${C1} --device cpu ${C1_SMALL} --out ${T}/wfail)
cs_gpu_error_tests(case01 "no CUDA device|CUDA was not built" ${T}/gpu_fault
  ${C1} --device gpu --variant gpu_fast ${C1_SMALL})
