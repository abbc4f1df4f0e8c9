/* Console helpers: time formatting (unit choice, three significant digits,
 * no "1000 ms"), the program name, brief mode, and that colours are off
 * when stdout is not a terminal (ctest captures it) or NO_COLOR is set. */
#include "cs_console.h"
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int time_is(double s, const char *expected)
{
    char buf[32];
    cs_format_time(s, buf, sizeof buf);
    if (strcmp(buf, expected) != 0) fprintf(stderr, "cs_format_time(%g) = '%s', want '%s'\n", s, buf, expected);
    return strcmp(buf, expected) == 0;
}

static int all_colours_empty(void)
{
    return cs_col_pass()[0] == '\0' && cs_col_fail()[0] == '\0' && cs_col_bold()[0] == '\0' &&
           cs_col_dim()[0] == '\0' && cs_col_reset()[0] == '\0';
}

int main(void)
{
    CHECK(time_is(812e-6, "812 us"));
    CHECK(time_is(12.3e-3, "12.3 ms"));
    CHECK(time_is(4.56, "4.56 s"));
    CHECK(time_is(45e-9, "45.0 ns"));
    CHECK(time_is(1.5e-6, "1.50 us"));
    CHECK(time_is(0.9996, "1.00 s")); /* not "1000 ms" */
    CHECK(time_is(0.9994, "999 ms"));
    CHECK(time_is(9.996e-3, "10.0 ms")); /* not "10.00 ms" */
    CHECK(time_is(123.0, "123 s"));
    CHECK(time_is(4000.0, "4000 s"));
    CHECK(time_is(0.0, "0 s"));

    /* the program name: the executable's before init, then the given one */
    CHECK(strcmp(cs_prog(), "test_console") == 0);
    cs_console_init("caseY", 1);
    CHECK(strcmp(cs_prog(), "caseY") == 0);
    CHECK(cs_brief() == 1);
    cs_console_init("caseY", 0);
    CHECK(cs_brief() == 0);

    /* colours: off when stdout is not a terminal; off with NO_COLOR anywhere */
    if (!isatty(STDOUT_FILENO)) CHECK(all_colours_empty());
    setenv("NO_COLOR", "1", 1);
    CHECK(all_colours_empty());
    unsetenv("NO_COLOR");

    return cs_test_done();
}
