# case02_data_pipeline: the whole program (included from tests/case02/CMakeLists.txt).
set(C2 $<TARGET_FILE:case02_data_pipeline>)
set(EXPECT ${CMAKE_SOURCE_DIR}/tests/run_expect.sh)
set(T ${CMAKE_CURRENT_BINARY_DIR})
set(D ${CMAKE_SOURCE_DIR}/tests/case02/data)
set(C2_FAST_RUN --repeat 1 --warmup 0 --no-plot)

function(c2_test name)
  add_test(NAME case02.${name} COMMAND bash ${EXPECT} ${ARGN})
  set_tests_properties(case02.${name} PROPERTIES LABELS "case02" TIMEOUT 300 SKIP_RETURN_CODE 77)
endfunction()

# Every rung (slow included) against the reference (reference.c) on a
# generated file with many malformed rows of every kind.
c2_test(equivalence_generated --rm ${T}/eq --code 0
  --stdout "slow +PASS +max error 0 cents \\(tolerance 0\\)"
  --stdout "views +PASS" --stdout "hashed +PASS" --stdout "fused +PASS" --stdout "columnar +PASS"
  --stdout "parallel +PASS" --stdout "fast +PASS" --stdout "unterminated_quote 1" --no-stdout "FAIL"
  -- ${C2} --rows 20000 --malformed 0.05 --threads 3 ${C2_FAST_RUN} --out ${T}/eq)
# Many groups: 2,000 categories (Zipf) over 60 days, some 8,000 groups in
# 15,000 rows (and 300,000 rows of 10,000 categories for fast alone). fast's
# groups leave its dense table for its hash table and its pipeline of
# prefetches, with 3 threads and 1; every rung, slow included, agrees with
# the reference.
c2_test(equivalence_many_groups --rm ${T}/eqg --code 0
  --stdout "slow +PASS" --stdout "hashed +PASS" --stdout "columnar +PASS" --stdout "parallel +PASS"
  --stdout "fast +PASS" --stdout "[0-9]{4,} groups" --no-stdout "FAIL"
  -- ${C2} --rows 15000 --categories 2000 --days 60 --zipf 1 --malformed 0.02 --threads 3 ${C2_FAST_RUN} --out ${T}/eqg)
c2_test(equivalence_many_groups_fast --rm ${T}/eqg1 --code 0
  --stdout "fast +PASS" --stdout "1 thread" --no-stdout "FAIL"
  -- ${C2} --rows 300000 --categories 10000 --days 90 --zipf 1.2 --spellings 3 --variant fast --threads 1 ${C2_FAST_RUN} --out ${T}/eqg1)
# The same with CRLF line ends, a BOM and no final newline.
c2_test(equivalence_crlf_bom --rm ${T}/eq2 --code 0
  --stdout "fast +PASS" --stdout "parallel +PASS" --stdout "columnar +PASS" --no-stdout "FAIL"
  -- ${C2} --rows 5000 --malformed 0.05 --crlf --bom --no-final-newline ${C2_FAST_RUN} --out ${T}/eq2)
# Rows of every length from 40 to 89 bytes, LF and CRLF, some quoted, some
# malformed: fast reads a row that ends within 64 bytes from bit masks of 64
# bytes at a time, anything else with its general scanner; both must agree
# with slow at every row length and alignment.
c2_test(edge_rows_all_lengths --rm ${T}/edge --code 0
  --stdout "fast +PASS" --stdout "parallel +PASS" --stdout "columnar +PASS"
  --stdout "301 rows: 211 accepted, 90 rejected \\(missing_field 13, extra_field 12, bad_amount 12, unknown_currency 53\\). 208 groups"
  --no-stdout "FAIL"
  -- ${C2} --input ${CMAKE_CURRENT_SOURCE_DIR}/data/edge_rows.csv --threads 3 ${C2_FAST_RUN} --out ${T}/edge)
# Quotes in every part the rules give them (data/make_quote_rows.py): quoted
# fields with commas, '""', CR and LF inside, empty ones, a quote inside an
# unquoted field, text after a closing quote. fast's bit masks read the usual
# ones and must hand the others to its general scanner.
c2_test(quote_rows_all_kinds --rm ${T}/quotes --code 0
  --stdout "fast +PASS" --stdout "parallel +PASS" --stdout "columnar +PASS" --stdout "600 rows: 568 accepted"
  --no-stdout "FAIL"
  -- ${C2} --input ${D}/quote_rows.csv --threads 3 ${C2_FAST_RUN} --out ${T}/quotes)
# The hand-written file: every rung agrees, and the output equals the
# aggregates worked out by hand (tests/case02/data/README.md).
c2_test(hand_written_expected --rm ${T}/hand --code 0 --no-stdout "FAIL"
  --stdout "fast +PASS"
  --same ${T}/hand/groups.csv ${D}/hand_expected_groups.csv
  --same ${T}/hand/summary.csv ${D}/hand_expected_summary.csv
  -- ${C2} --input ${D}/hand.csv ${C2_FAST_RUN} --out ${T}/hand)
# parallel alone with many threads on a tiny file: chunks smaller than a
# record (most chunks then hold no record at all).
c2_test(parallel_many_threads_hand --rm ${T}/hand16p --code 0
  --same ${T}/hand16p/groups.csv ${D}/hand_expected_groups.csv --same ${T}/hand16p/summary.csv ${D}/hand_expected_summary.csv
  -- ${C2} --input ${D}/hand.csv --variant parallel --threads 16 ${C2_FAST_RUN} --out ${T}/hand16p)
# fast alone with many threads on a tiny file: chunks smaller than a record.
c2_test(fast_many_threads_hand --rm ${T}/hand16 --code 0
  --same ${T}/hand16/groups.csv ${D}/hand_expected_groups.csv --same ${T}/hand16/summary.csv ${D}/hand_expected_summary.csv
  -- ${C2} --input ${D}/hand.csv --variant fast --threads 16 ${C2_FAST_RUN} --out ${T}/hand16)
# The comparison can fail: it names the rung, the error in cents and the difference.
c2_test(check_catches_fault --rm ${T}/fault --code 1 --env CS_FAULT_INJECT=fused
  --stdout "slow +PASS" --stdout "fused +FAIL +max error 1 cents \\(tolerance 0\\): group" --stderr "differed"
  -- ${C2} --rows 2000 --variant slow,fused ${C2_FAST_RUN} --out ${T}/fault)
# The other parts of the comparison, on every rung but slow (the default
# --malformed gives every reason and hour rows): a rejected row counted under
# the next reason, an accepted row in the next hour.
foreach(rung views hashed fused columnar parallel fast)
  c2_test(check_catches_reject_fault_${rung} --rm ${T}/fault_rej_${rung} --code 1
    --env CS_FAULT_INJECT=${rung}_reject --stdout "${rung} +FAIL .*(unterminated_quote|missing_field|extra_field|bad_timestamp|bad_amount|unknown_currency): [0-9]+ against"
    --stderr "differed"
    -- ${C2} --rows 2000 --variant ${rung} ${C2_FAST_RUN} --out ${T}/fault_rej_${rung})
  c2_test(check_catches_hour_fault_${rung} --rm ${T}/fault_hour_${rung} --code 1
    --env CS_FAULT_INJECT=${rung}_hour --stdout "${rung} +FAIL .*an hour of the histogram" --stderr "differed"
    -- ${C2} --rows 2000 --variant ${rung} ${C2_FAST_RUN} --out ${T}/fault_hour_${rung})
endforeach()
# A rung run alone is compared with the reference, not with itself, and slow
# does not run at all: a wrong fast fails with --variant fast.
c2_test(check_alone_against_reference --rm ${T}/fault_alone --code 1 --env CS_FAULT_INJECT=fast
  --stdout "the slow rung was not selected" --stdout "fast +FAIL" --no-stdout "slow +(PASS|FAIL)"
  --stderr "differed from the reference"
  -- ${C2} --rows 2000 --variant fast ${C2_FAST_RUN} --out ${T}/fault_alone)
# A wrong reference fails every rung (the check compares; it does not trust either side).
c2_test(check_catches_wrong_reference --rm ${T}/fault_ref --code 1 --env CS_FAULT_INJECT=reference
  --stdout "slow +FAIL" --stdout "fast +FAIL"
  -- ${C2} --rows 2000 --variant slow,fast ${C2_FAST_RUN} --out ${T}/fault_ref)
# Step 4 measures how slow's group list grows with the groups (only when slow runs).
c2_test(slow_group_growth --rm ${T}/growth --code 0
  --stdout "slow's list +hashed's table" --stdout "10000 +[0-9]+ ns +[0-9]+ ns"
  -- ${C2} --rows 2000 --variant slow,hashed ${C2_FAST_RUN} --out ${T}/growth)
# The generator: deterministic from the seed.
c2_test(generate_deterministic --rm ${T}/g1.csv --rm ${T}/g2.csv --code 0
  --same ${T}/g1.csv ${T}/g2.csv
  -- bash -c "'${C2}' --generate 3000 --out-csv '${T}/g1.csv' && '${C2}' --generate 3000 --out-csv '${T}/g2.csv'")
# --quick: the whole case with its files.
c2_test(quick --rm ${T}/quick --code 0
  --stdout "== 1\\. Scenario" --stdout "== 4\\. Investigation" --stdout "== 7\\. Key lessons"
  --stdout "Thread scaling" --no-stdout "FAIL"
  --file ${T}/quick/results.csv --file ${T}/quick/results.json --file ${T}/quick/trace.json
  --file ${T}/quick/groups.csv --file ${T}/quick/summary.csv --file ${T}/quick/ladder.gp
  --file ${T}/quick/threads.gp --file ${T}/quick/phases.gp
  -- ${C2} --quick --no-plot --out ${T}/quick)
c2_test(help --code 0 --stdout "--input FILE" --stdout "columnar" -- ${C2} --help)

# Bad input: one line, exit 2, no output folder (each test its own: two runs
# probing one missing folder at once would collide).
file(WRITE ${T}/no_amount.csv "txn_id,timestamp,user_id,category,currency,country\n1,2026-03-01T00:00:00Z,1,a,USD,US\n")
file(WRITE ${T}/empty.csv "")
file(WRITE ${T}/not_csv.json "{\"records\": [1, 2, 3]}\n")
c2_test(bad_missing_column --code 2 --stderr-lines 1 --stderr "no_amount.csv: line 1: missing column 'amount'"
  --absent ${T}/bad_missing_column -- ${C2} --input ${T}/no_amount.csv --out ${T}/bad_missing_column)
c2_test(bad_empty_file --code 2 --stderr-lines 1 --stderr "empty.csv: empty file" --absent ${T}/bad_empty_file
  -- ${C2} --input ${T}/empty.csv --out ${T}/bad_empty_file)
c2_test(bad_not_csv --code 2 --stderr-lines 1 --stderr "not_csv.json: line 1: missing column" --absent ${T}/bad_not_csv
  -- ${C2} --input ${T}/not_csv.json --out ${T}/bad_not_csv)
c2_test(bad_binary_file --code 2 --stderr-lines 1 --stderr "binary file" --absent ${T}/bad_binary_file
  -- ${C2} --input $<TARGET_FILE:case02_data_pipeline> --out ${T}/bad_binary_file)
c2_test(bad_missing_file --code 2 --stderr-lines 1 --stderr "nope.csv: cannot open" --absent ${T}/bad_missing_file
  -- ${C2} --input ${T}/nope.csv --out ${T}/bad_missing_file)
c2_test(bad_directory --code 2 --stderr-lines 1 --stderr "not a regular file" --absent ${T}/bad_directory
  -- ${C2} --input ${T} --out ${T}/bad_directory)
c2_test(bad_out_dir --code 2 --stderr-lines 1 --stderr "/proc/case02_cannot_write"
  -- ${C2} --input ${D}/hand.csv --out /proc/case02_cannot_write/x)
c2_test(bad_rows --code 2 --stderr-lines 1 --stderr "--rows" --absent ${T}/bad_rows -- ${C2} --rows 0 --out ${T}/bad_rows)
c2_test(bad_generate_alone --code 2 --stderr-lines 1 --stderr "--out-csv" -- ${C2} --generate 10)
c2_test(bad_categories --code 2 --stderr-lines 1 --stderr "--categories" --absent ${T}/bad_cat
  -- ${C2} --categories 0 --out ${T}/bad_cat)
c2_test(bad_zipf --code 2 --stderr-lines 1 --stderr "--zipf" --absent ${T}/bad_zipf -- ${C2} --zipf -1 --out ${T}/bad_zipf)
c2_test(bad_spellings --code 2 --stderr-lines 1 --stderr "--spellings" -- ${C2} --spellings 6 --generate 10 --out-csv ${T}/x.csv)

# Files that are not regular files, as inputs and as --out-csv
# (tests/case02/special_files.sh sets each one up and checks what is left).
set(C2_SPECIAL bash ${CMAKE_CURRENT_SOURCE_DIR}/special_files.sh ${C2} ${T}/special)
# Inputs: a FIFO and a device are refused before they are opened (a FIFO
# would block), a link to a CSV is followed, a link to a device or a
# dangling one is refused.
c2_test(input_fifo --code 2 --stderr-lines 1 --stderr "in.fifo: not a regular file" -- ${C2_SPECIAL} input-fifo)
c2_test(input_device --code 2 --stderr-lines 1 --stderr "/dev/zero: not a regular file" --absent ${T}/bad_dev
  -- ${C2} --input /dev/zero --out ${T}/bad_dev)
c2_test(input_symlink --code 0 --stdout "fast +PASS" --stdout "301 rows: 211 accepted, 90 rejected"
  -- ${C2_SPECIAL} input-symlink)
c2_test(input_symlink_to_device --code 2 --stderr-lines 1 --stderr "to_null.csv: not a regular file"
  -- ${C2_SPECIAL} input-symlink-to-device)
c2_test(input_dangling_symlink --code 2 --stderr-lines 1 --stderr "dangling.csv: cannot open"
  -- ${C2_SPECIAL} input-dangling-symlink)
# --out-csv: never replaced when it is not a regular file (the file is written
# under a temporary name and renamed: over a device as root, /dev/full
# would become a plain file), one line naming the option and the path, exit
# 2, before any work, and the thing still there, unchanged.
c2_test(out_csv_device --code 2 --stderr-lines 1 --stderr "--out-csv .*: a character device, not a regular file to replace"
  -- ${C2_SPECIAL} out-device)
c2_test(out_csv_fifo --code 2 --stderr-lines 1 --stderr "--out-csv .*out.fifo: a FIFO" -- ${C2_SPECIAL} out-fifo)
c2_test(out_csv_symlink --code 2 --stderr-lines 1 --stderr "--out-csv .*link.csv: a symbolic link"
  -- ${C2_SPECIAL} out-symlink)
c2_test(out_csv_directory --code 2 --stderr-lines 1 --stderr "--out-csv .*: a directory" -- ${C2} --generate 10 --out-csv ${T})
c2_test(out_csv_no_folder --code 2 --stderr-lines 1 --stderr "--out-csv .*nope/x.csv: cannot create it in"
  -- ${C2} --generate 10 --out-csv ${T}/nope/x.csv)
# A write that fails (a file size limit: EFBIG, as a full disk gives ENOSPC)
# ends with exit 3, one line, and no file, neither the output nor its temporary.
c2_test(out_csv_write_error --code 3 --stderr-lines 1 --stderr "cannot write .*big.csv" -- ${C2_SPECIAL} out-write-error)
# Interrupted: SIGINT or SIGTERM remove the generated input, the intermediate
# file and any output still under its temporary name, and the process dies
# of the signal (status 128 + its number).
c2_test(signal_int_cleans_up --code 0 --stdout "status 130, nothing left" -- ${C2_SPECIAL} signal-int)
c2_test(signal_term_cleans_up --code 0 --stdout "status 143, nothing left" -- ${C2_SPECIAL} signal-term)
c2_test(signal_term_generate --code 0 --stdout "status 143, nothing left" -- ${C2_SPECIAL} signal-term-generate)
set_tests_properties(case02.input_fifo case02.signal_int_cleans_up case02.signal_term_cleans_up
  case02.signal_term_generate PROPERTIES TIMEOUT 120)
c2_test(bad_device --code 2 --stderr-lines 1 --stderr "no GPU variant" --absent ${T}/bad_device
  -- ${C2} --device gpu --out ${T}/bad_device)

# An empty category (only spaces, or nothing) is a valid row: every rung must
# accept it (hashed once failed on an empty first spelling: exit 3).
file(WRITE ${T}/empty_category.csv
  "txn_id,timestamp,user_id,category,amount,currency,country\n"
  "1,2026-03-01T10:00:00Z,7,,12.50,EUR,DE\n"
  "2,2026-03-01T11:00:00Z,8,  ,1.00,USD,US\n"
  "3,2026-03-01T12:00:00Z,9,Books,2,USD,US\n")
c2_test(empty_category --rm ${T}/empty_cat --code 0 --no-stdout "FAIL"
  --stdout "hashed +PASS" --stdout "fast +PASS" --stdout "3 rows: 3 accepted"
  -- ${C2} --input ${T}/empty_category.csv ${C2_FAST_RUN} --out ${T}/empty_cat)

# The pandas peer (docs/case02_pandas_compare.py): the same job in pandas
# writes the same groups.csv and summary.csv, byte for byte; skipped (77)
# where python3 cannot import pandas (.ci/run installs python3-pandas).
set(C2_PANDAS ${CMAKE_SOURCE_DIR}/docs/case02_pandas_compare.py)
c2_test(pandas_peer_generated --rm ${T}/pd --rm ${T}/pd.csv --code 0 --skip-if "skipped: pandas"
  --stdout "groups.csv: PASS" --stdout "summary.csv: PASS" --stdout "unterminated_quote 1" --no-stdout "FAIL"
  -- bash -c "'${C2}' --generate 20000 --malformed 0.05 --crlf --bom --no-final-newline --out-csv '${T}/pd.csv' && '${C2}' --input '${T}/pd.csv' --variant fast --repeat 1 --warmup 0 --no-plot --out '${T}/pd' >/dev/null && '${CS_PYTHON_PANDAS}' '${C2_PANDAS}' --input '${T}/pd.csv' --expect '${T}/pd' --repeat 1 --warmup 0")
c2_test(pandas_peer_quote_rows --rm ${T}/pdq --code 0 --skip-if "skipped: pandas"
  --stdout "^PASS" --no-stdout "FAIL"
  -- bash -c "'${C2}' --input '${D}/quote_rows.csv' --variant fast --repeat 1 --warmup 0 --no-plot --out '${T}/pdq' >/dev/null && '${CS_PYTHON_PANDAS}' '${C2_PANDAS}' --input '${D}/quote_rows.csv' --expect '${T}/pdq' --repeat 1 --warmup 0")

# --malformed out of its bounds (exit 2), and the exit-3 paths: memory that
# runs out (CS_FAULT_INJECT=host_oom: every block of 1 MiB or more fails) and
# a write that fails (a file size limit, as a full disk: here the timed run's
# scratch output), each one line, no output folder.
c2_test(bad_malformed_over --code 2 --stderr-lines 1 --stderr "--malformed: 0.6 is out of range \\(0..0.5\\)"
  --absent ${T}/bad -- ${C2} --malformed 0.6 --out ${T}/bad)
c2_test(bad_malformed_negative --code 2 --stderr-lines 1 --stderr "--malformed: -0.1 is out of range" --absent ${T}/bad
  -- ${C2} --malformed -0.1 --out ${T}/bad)
c2_test(out_of_memory --code 3 --stderr-lines 1 --stderr "out of memory: asked for [0-9]+ bytes for" --absent ${T}/oom
  --env CS_FAULT_INJECT=host_oom -- ${C2} --rows 20000 ${C2_FAST_RUN} --out ${T}/oom)
c2_test(write_fails --code 3 --stderr-lines 1 --stderr "cannot write .*File too large" --absent ${T}/wfail
  -- bash ${CMAKE_SOURCE_DIR}/tests/with_file_limit.sh 1 ${C2} --input ${D}/edge_rows.csv --variant fast ${C2_FAST_RUN}
     --out ${T}/wfail)
