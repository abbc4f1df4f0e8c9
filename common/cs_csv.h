/* CSV writing as RFC 4180 says: a field with a comma, a double quote, CR or
 * LF is quoted and its quotes doubled. */
#ifndef CS_CSV_H
#define CS_CSV_H

#include <stdio.h>

/* Writes one field (no separator). NULL writes an empty field. */
void cs_csv_field(FILE *f, const char *s);

/* Writes n fields separated by commas and ends the line with "\n". */
void cs_csv_row(FILE *f, const char *const *fields, int n);

/* Formats a double for CSV/JSON tables: "%.6g", or "" when NaN. */
char *cs_fmt_num(char *buf, size_t len, double v);

#endif
