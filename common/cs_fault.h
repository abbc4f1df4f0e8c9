/* The tests' fault injection: CS_FAULT_INJECT=name in the environment makes
 * the code that asks for `name` plant a bug (a rung's result corrupted, a
 * gradient zeroed), to show that the check meant to catch it does. */
#ifndef CS_FAULT_H
#define CS_FAULT_H

/* 1 when CS_FAULT_INJECT is exactly name. */
int cs_fault_injected(const char *name);

/* 1 when CS_FAULT_INJECT is exactly "<rung>_<part>": a fault in one part of
 * a rung's result (case03's "gpu_cublas_rowsum"). */
int cs_fault_injected_for(const char *rung, const char *part);

#endif
