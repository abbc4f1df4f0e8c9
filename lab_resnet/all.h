/* The lab's parts as runs: Part 1 (the profile and the baseline epoch, the
 * seven steps of the lab's first part), and `lab_resnet all`: Parts 1 to 6
 * in order, each from the same initial weights, each in its own folder
 * under --out, ending with Part 6's dashboard and report. */
#ifndef RN_ALL_H
#define RN_ALL_H

#include "lab.h"

/* Part 1 after step1_scenario: the profile (steps 2-3) when `profile`,
 * the baseline epoch (4, 6, the results) when `baseline`, and steps 5 and
 * 7 when both. Returns 0, 1 when the baseline's check failed, or another
 * exit code. */
int rn_part1(rn_lab *lab, int profile, int baseline);

/* Parts 1 to 6 after step1_scenario. Returns 0, 1 when a part's check
 * failed (the later parts still run), or another exit code. */
int rn_all(rn_lab *lab);

#endif
