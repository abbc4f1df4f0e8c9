/* CSV as RFC 4180 writes it, so spreadsheets and pandas read it back
 * unchanged: a field holding a comma, a double quote, CR or LF goes in
 * double quotes, with each quote inside doubled ("say ""hi"""). */
#include "cs_csv.h"

#include <math.h>
#include <string.h>

void cs_csv_field(FILE *f, const char *s)
{
    if (s == NULL) return; /* empty field */
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

void cs_csv_row(FILE *f, const char *const *fields, int n)
{
    for (int i = 0; i < n; i++) {
        if (i > 0) fputc(',', f);
        cs_csv_field(f, fields[i]);
    }
    fputc('\n', f);
}

char *cs_fmt_num(char *buf, size_t len, double v)
{
    if (buf == NULL || len == 0) return buf;
    if (isnan(v))
        buf[0] = '\0'; /* an empty cell reads as "missing" */
    else
        snprintf(buf, len, "%.6g", v);
    return buf;
}
