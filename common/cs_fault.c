/* The tests' fault injection (see cs_fault.h). */
#include "cs_fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cs_fault_injected(const char *name)
{
    const char *fault = getenv("CS_FAULT_INJECT");
    return fault && strcmp(fault, name) == 0;
}

int cs_fault_injected_for(const char *rung, const char *part)
{
    char name[128];
    snprintf(name, sizeof name, "%s_%s", rung, part);
    return cs_fault_injected(name);
}
