/* The tests' fault injection (see cs_fault.h). */
#include "cs_fault.h"

#include <stdlib.h>
#include <string.h>

int cs_fault_injected(const char *name)
{
    const char *fault = getenv("CS_FAULT_INJECT");
    return fault && strcmp(fault, name) == 0;
}
