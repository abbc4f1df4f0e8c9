# lab_resnet ddp, the distributed lab: one rank without mpirun, then 1, 2
# and 3 ranks under mpirun (label mpi; skipped with 77 when mpirun is
# missing or the lab was built without MPI), the checks' faults, bad input.
set(MPIRUN bash ${CMAKE_CURRENT_SOURCE_DIR}/mpirun_or_skip.sh "${MPIEXEC_EXECUTABLE}" "${CS_HAVE_MPI}")
set(DDP_SHORT --quick --batch 8 --batches 4 --warmup 0 --repeat 1 --no-plot --threads 1)

# Every run of `ddp` starts MPI. Under the sanitizers (CI's second build)
# LeakSanitizer then reads full stacks and leaves out what Open MPI keeps to
# the end (tests/lsan_mpi.supp); in a plain build the two variables do
# nothing.
set(DDP_SANITIZE_ENV ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0
  LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan_mpi.supp:print_suppressions=0)
function(rn_ddp_test name)
  rn_test(${name} ${ARGN})
  set_property(TEST lab_resnet.${name} APPEND PROPERTY ENVIRONMENT ${DDP_SANITIZE_ENV})
endfunction()
# mpirun_or_skip.sh's exit 77 reaches CTest only through run_expect's
# --skip-if (which otherwise judges the exit code and the output).
function(rn_mpi_test name)
  rn_ddp_test(${name} --skip-if "^skipped: (lab_resnet was built without MPI|no mpirun)" ${ARGN})
  set_tests_properties(lab_resnet.${name} PROPERTIES LABELS "lab_resnet;mpi")
endfunction()

# Without mpirun: the one-rank case, every row and its checks, the files.
rn_ddp_test(ddp_one_rank --rm ${T}/ddp1 --code 0
  --stdout "Data-parallel training: 1 rank " --stdout "== 7\\. Key lessons"
  --stdout "no_sync_4 +ranks agree yes .*PASS"
  --file ${T}/ddp1/results.csv --file ${T}/ddp1/comm_overhead.gp --file ${T}/ddp1/ddp_scaling.gp
  --file-has ${T}/ddp1/ddp.csv "^configuration,ranks,threads_per_rank,"
  --file-has ${T}/ddp1/ddp.csv "^overlapped,1,.*,PASS$"
  -- ${LR} ddp ${DDP_SHORT} --out ${T}/ddp1)

# N = 1, 2, 3 under mpirun: every row's ranks agree after every step, and
# the first step's gradients and weights match one process taking the same
# shards (3 ranks: 8 images as 2, 3, 3).
foreach(n 1 2 3)
  rn_mpi_test(ddp_mpi_${n} --rm ${T}/ddpm${n} --code 0
    --stdout "Data-parallel training: ${n} rank" --stdout "per_tensor +ranks agree yes .*PASS"
    --stdout "bucket_view +ranks agree yes .*PASS" --stdout "overlapped +ranks agree yes .*PASS"
    --stdout "no_sync_4 +ranks agree yes .*PASS"
    --file-has ${T}/ddpm${n}/ddp.csv "^bucketed,${n},"
    --file-has ${T}/ddpm${n}/ddp_scaling.csv "^ranks_${n},${n},"
    -- ${MPIRUN} ${n} ${LR} ddp ${DDP_SHORT} --out ${T}/ddpm${n})
endforeach()
rn_mpi_test(ddp_mpi_alpha_beta --rm ${T}/ddpab --code 0
  --stdout "The all-reduce on 2 ranks, measured" --stdout "Prediction, not a measurement" --stdout "takes .* on 8 ranks and .* on 64"
  --file-has ${T}/ddpab/ddp_allreduce.csv "^bytes,median_s,"
  -- ${MPIRUN} 2 ${LR} ddp ${DDP_SHORT} --variant bucketed --out ${T}/ddpab)

# The checks' faults: each rank's mean summed instead of the batch's mean
# (the gradients are N times too large: the check against one process);
# the last bucket never reduced (the ranks' weights part: the agreement).
rn_mpi_test(ddp_fault_sums --rm ${T}/ddpfs --code 1 --env CS_FAULT_INJECT=rn_ddp_sums_not_averages
  --stdout "per_tensor +ranks agree yes .*FAIL"
  -- ${MPIRUN} 2 ${LR} ddp ${DDP_SHORT} --variant per_tensor --out ${T}/ddpfs)
rn_mpi_test(ddp_fault_bucket --rm ${T}/ddpfb --code 1 --env CS_FAULT_INJECT=rn_ddp_drops_last_bucket
  --stdout "bucketed +ranks agree NO .*FAIL" --stdout "overlapped +ranks agree NO .*FAIL"
  -- ${MPIRUN} 2 ${LR} ddp ${DDP_SHORT} --variant bucketed,overlapped --out ${T}/ddpfb)

# Ranks that chose different devices (a machine with fewer GPUs than the
# others): one line and exit 3 on every rank, not a hang in collectives
# that only some of them call.
rn_mpi_test(ddp_fault_device_disagree --code 3 --env CS_FAULT_INJECT=rn_ddp_rank1_other_device
  --stderr "the ranks disagree on the device"
  -- ${MPIRUN} 2 ${LR} ddp ${DDP_SHORT} --out ${T}/ddpdd)

# Bad input: one line, exit 2, before any work.
rn_mpi_test(ddp_batch_smaller_than_ranks --code 2
  --stderr "--batch 2: fewer images than the 3 ranks"
  -- ${MPIRUN} 3 ${LR} ddp --quick --batch 2 --no-plot --out ${T}/ddpbad)
rn_test(ddp_bucket_mb_elsewhere --code 2 --stderr-lines 1 --stderr "--bucket-mb: only ddp reduces gradients in buckets"
  -- ${LR} baseline --bucket-mb 4 --out ${T}/ddpbad)
rn_ddp_test(ddp_bad_bucket_mb --code 2 --stderr-lines 1 --stderr "--bucket-mb: 0 is out of range"
  -- ${LR} ddp --bucket-mb 0 --out ${T}/ddpbad)
rn_ddp_test(ddp_bad_precision --code 2 --stderr-lines 1 --stderr "--precision: ddp's rows are Part 1's fp32 step"
  -- ${LR} ddp --precision bf16 --out ${T}/ddpbad)
# --device gpu: one rank on NCCL where a GPU is (label gpu), else one line
# saying why not (skipped: no device, or no NCCL in this build).
rn_ddp_test(ddp_gpu_one_rank --rm ${T}/ddpg --code 0 --skip-if "--device gpu: (no CUDA device|built without NCCL)"
  --stdout "all-reduces with NCCL" --stdout "overlapped +ranks agree yes .*PASS"
  -- ${LR} ddp ${DDP_SHORT} --device gpu --out ${T}/ddpg)
set_tests_properties(lab_resnet.ddp_gpu_one_rank PROPERTIES LABELS "lab_resnet;gpu")
