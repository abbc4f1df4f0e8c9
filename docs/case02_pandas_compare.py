#!/usr/bin/env python3
"""case02's peer: the same ETL job in pandas, timed and checked against the C program.

Runs the job that case02_data_pipeline/pipeline.h defines (validate the card
transactions of a CSV, convert each accepted amount to US cents, group by day
and category, count rows by hour) the way a data engineer writes it in pandas:
read_csv with the C engine, vectorized string and numpy operations,
groupby().agg, integers (int64) for all the money. It times the whole job
(read, validate, transform, aggregate, write groups.csv and summary.csv to a
temporary folder): --warmup untimed runs, then --repeat timed runs, and
prints the median, min and max with records/s and MB/s. With --expect DIR
(the folder of `case02_data_pipeline --input FILE --out DIR`) it compares its
groups.csv and summary.csv with the C program's, byte for byte.

    C2=build/case02_data_pipeline/case02_data_pipeline
    $C2 --generate 1000000 --out-csv /tmp/t.csv
    $C2 --input /tmp/t.csv --variant fast --repeat 1 --warmup 0 --no-plot --out /tmp/c
    python3 docs/case02_pandas_compare.py --input /tmp/t.csv --expect /tmp/c
    python3 docs/case02_pandas_compare.py --input /tmp/t.csv --out /tmp/p --repeat 3

What pandas cannot do the way the rules say, and how this script does it
(the output says it too):
  - read_csv pads a record with too few fields with empty strings (the same
    value as an empty field), and with usecols drops extra fields silently
    (without usecols, on_bad_lines='skip' drops the whole line, and a
    callable on_bad_lines needs engine='python', about 4x slower here). So
    the field count of every record comes from one numpy pass over the bytes:
    the positions of quotes, LFs and commas, with the quote state of the
    rules computed from runs of adjacent quotes (scan_structure). It is exact
    for every file the rules accept, and timed as part of the job (the
    "record structure" phase).
  - read_csv raises on a quoted field still open at the end of the file. The
    same pass finds that record; read_csv gets the bytes before it, and it
    counts as one unterminated_quote row.
  - read_csv by default ends a record at a bare CR too, and skips lines of
    only spaces or tabs (rows in the rules). It runs here with
    lineterminator='\n' (a CR is data, as in the rules) and
    skip_blank_lines=False (pandas' rows are then the records, one for one);
    the CR of a CR LF, which pandas then leaves at the end of the last field,
    is removed where the rules drop it, and a line holding only a CR (blank
    in the rules) is not counted.
  - pd.to_datetime(format=..., errors='coerce') stops at the year 2262 and
    took 2.2 s for 10^6 rows here, and Series.str.fullmatch 0.4 s for the
    shape alone: the timestamp's shape and calendar are checked on a
    fixed-width numpy array of its characters (about 0.3 s in all).
    Amounts are checked with str.fullmatch once per distinct value;
    categories and currencies are read as category dtype.
  - Text is decoded as Latin-1 (one character per byte), so any bytes,
    UTF-8 or not, come back unchanged in groups.csv.
  - A NUL byte: pandas' C parser ends a field there (C strings): exit 2.

The last line printed is machine-readable: RESULT rows=... median_s=... records_per_s=...
check=PASS|FAIL|none.

Exit codes: 0 done (PASS, or no --expect), 1 FAIL, 2 bad usage or an
unreadable or invalid input, 3 an internal inconsistency, 77 pandas or numpy
missing (the CTest test is then skipped).
"""
import argparse
import importlib.util
import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

PROG = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "case02_pandas_compare.py"

# ---- the job's constants (pipeline.h, rules.c, output.c) -------------------------

COLUMNS = ["txn_id", "timestamp", "user_id", "category", "amount", "currency", "country"]
REASONS = ["unterminated_quote", "missing_field", "extra_field", "bad_timestamp", "bad_amount",
           "unknown_currency"]
# Copied from c2_rates in case02_data_pipeline/rules.c: US dollars per unit, in
# millionths. Keep in step with it.
RATES_PPM = {
    "USD": 1000000, "EUR": 1080000, "GBP": 1270000, "JPY": 6700,
    "CHF": 1130000, "CAD": 740000, "AUD": 660000, "CNY": 138000,
    "INR": 12000, "BRL": 200000, "MXN": 58000, "SEK": 95000,
}
HEADER_MAX = 64 * 1024          # C2_HEADER_MAX in output.c
BOM = b"\xef\xbb\xbf"
QUOTE, COMMA, LF, CR = 0x22, 0x2C, 0x0A, 0x0D
# The amount's shape, ASCII digits only: \d would also match other scripts' digits.
AMOUNT_RE = r"-?[0-9]{1,10}(?:\.[0-9]{1,2})?"
# Only A-Z lower-cased: str.lower() would also change other letters (É, Σ).
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# Text is decoded as Latin-1: one character per byte, so every byte sequence
# (UTF-8 or not) comes back unchanged, code point order is byte order (the
# rules sort categories bytewise), and str.strip/translate touch only the
# ASCII bytes named. (UTF-8 with surrogateescape would also round-trip, but
# pandas' factorize and get_indexer treat every string holding a lone
# surrogate as equal: invalid UTF-8 categories would merge.) It costs
# nothing measurable in read_csv.
ENCODING, ERRORS = "latin-1", "strict"


class InputError(Exception):
    """A file that cannot be used: one line, exit 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{PROG}: {message}", file=sys.stderr)
        sys.exit(2)


def parse_args():
    p = OneLineParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", required=True, metavar="FILE", help="the CSV of transactions")
    p.add_argument("--expect", metavar="DIR",
                   help="folder with the C program's groups.csv and summary.csv to compare with")
    p.add_argument("--repeat", type=int, default=5, metavar="N", help="timed runs (default 5)")
    p.add_argument("--warmup", type=int, default=1, metavar="N", help="untimed runs first (default 1)")
    p.add_argument("--out", metavar="DIR", help="also write pandas' groups.csv and summary.csv here")
    a = p.parse_args()
    if not 1 <= a.repeat <= 1000:
        p.error(f"--repeat: must be 1..1000 (got {a.repeat})")
    if not 0 <= a.warmup <= 100:
        p.error(f"--warmup: must be 0..100 (got {a.warmup})")
    return a


# ---- read and header ---------------------------------------------------------------

def read_input(path):
    """The file's bytes, with the checks of c2_read_header (output.c)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror}")
    if not (st.st_mode & 0o170000 == 0o100000):
        raise InputError(f"{path}: not a regular file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}")
    if not data:
        raise InputError(f"{path}: empty file (expected a CSV header: txn_id, ...)")
    nul = data.find(b"\0")          # memchr: a few ms even for 60 MB
    if 0 <= nul < HEADER_MAX:
        raise InputError(f"{path}: binary file (NUL byte at offset {nul}), not a CSV")
    if nul >= 0:
        # The C program reads it (a NUL is an ordinary byte after the first
        # 64 KiB); pandas' C parser ends a field at a NUL, so the job cannot
        # be done exactly: refuse rather than compare something else.
        raise InputError(f"{path}: NUL byte at offset {nul}: pandas' C parser ends a field there, "
                         "so this job cannot be run exactly in pandas")
    return data


def scan_header(data, path):
    """Splits the header record by the rules (as c2_scan_record does): returns
    (field names as bytes, offset of the first data record). One record, so a
    plain loop over its fields."""
    buf = data[:HEADER_MAX]
    n = len(buf)
    i = 3 if buf.startswith(BOM) else 0
    fields = []
    if i >= n or buf[i:i + 1] == b"\n" or buf[i:i + 2] == b"\r\n":
        nxt = buf.find(b"\n", i) + 1 if i < n else n          # a blank first line: no names
        return fields, nxt
    eol = buf.find(b"\n", i)
    eol = n if eol < 0 else eol
    while True:
        if i < eol and buf[i] == QUOTE:
            value, j = bytearray(), i + 1
            while True:
                k = buf.find(b'"', j)
                if k < 0:
                    if n == HEADER_MAX and buf[-1:] != b"\n":
                        raise InputError(f"{path}: line 1: no end of the header in the first "
                                         f"{HEADER_MAX // 1024} KiB: not a CSV")
                    raise InputError(f"{path}: line 1: unterminated quote in the header")
                if buf[k + 1:k + 2] == b'"':
                    value += buf[j:k + 1]
                    j = k + 2
                    continue
                value += buf[j:k]
                break
            if eol < k:
                eol = buf.find(b"\n", k + 1)
                eol = n if eol < 0 else eol
            stop = buf.find(b",", k + 1, eol)
            stop = eol if stop < 0 else stop
            tail_end = stop - 1 if (stop == eol < n and stop > k + 1 and buf[stop - 1] == CR) else stop
            value += buf[k + 1:tail_end]
            fields.append(bytes(value))
        else:
            stop = buf.find(b",", i, eol)
            stop = eol if stop < 0 else stop
            text_end = stop - 1 if (stop == eol < n and stop > i and buf[stop - 1] == CR) else stop
            fields.append(buf[i:text_end])
        if stop < eol:
            i = stop + 1
            continue
        if eol == n and n == HEADER_MAX and buf[-1:] != b"\n":
            raise InputError(f"{path}: line 1: no end of the header in the first "
                             f"{HEADER_MAX // 1024} KiB: not a CSV")
        return fields, (eol + 1 if eol < n else n)


def find_columns(fields, path):
    """Index of each needed column (its first occurrence, like output.c)."""
    index = {}
    for c in COLUMNS:
        name = c.encode()
        if name not in fields:
            found = ", ".join(f[:40].decode("utf-8", "replace") for f in fields)[:150] or "nothing"
            raise InputError(f"{path}: line 1: missing column '{c}' (found: {found})")
        index[c] = fields.index(name)
    return index


# ---- the record structure: what read_csv cannot report -----------------------------

def positions_in_spans(np, pos, lo, hi, want_mask):
    """For sorted positions pos: how many fall in each of the disjoint open
    intervals (lo[i], hi[i]), and (want_mask) a mask of those inside one."""
    first = np.searchsorted(pos, lo, side="right")
    stop = np.searchsorted(pos, hi, side="left")
    per_span = stop - first
    mask = None
    if want_mask and per_span.any():
        keep = per_span > 0
        edges = np.bincount(first[keep], minlength=len(pos) + 1) - \
            np.bincount(stop[keep], minlength=len(pos) + 1)
        mask = np.cumsum(edges[:-1]) > 0
    return mask, per_span


def scan_structure(np, data, start):
    """Splits data[start:] into records by the rules, in numpy (no loop over
    bytes or rows). Returns a dict: per record its start and end (the end is
    its LF, or the cut), its field count, whether it is blank, whether it ends
    in CR LF; and `cut`, where a record with a quote still open at the end of
    the file begins (len(data) when there is none).

    The quote state. By the rules a '"' opens a quoted field only at the start
    of a field (after ',' or LF); inside one, '""' is a quote and a single '"'
    closes it; anywhere else '"' is an ordinary byte. Take the runs of
    adjacent quotes: a run of k quotes that starts a field (the byte before it
    is ',' or LF) leaves "inside a quoted field" if k is odd and it began
    outside, or if k is even and it began inside: it flips the state when k
    is odd. A run after any other byte sets the state to outside when k is
    odd (inside a quoted field: escapes, then the closing quote; outside:
    ordinary bytes) and keeps it when k is even (escapes, or ordinary bytes).
    (Inside a quoted field the byte before a run does not matter: both rules
    give "still inside iff k is even".) So each run is identity,
    flip or reset, and the state after a run is the parity of the flips since
    the last reset: a cumulative sum. The bytes between a run that leaves the
    state inside and the next run are quoted: the LFs and commas there are
    data, the others end records and fields."""
    a = np.frombuffer(data, dtype=np.uint8)
    end = len(a)
    body = a[start:]
    quotes = np.flatnonzero(body == QUOTE) + start
    lfs = np.flatnonzero(body == LF) + start
    commas = np.flatnonzero(body == COMMA) + start
    cut = end
    span_lo = span_hi = np.empty(0, dtype=np.int64)
    if len(quotes):
        begins = np.empty(len(quotes), dtype=bool)
        begins[0] = True
        np.not_equal(quotes[1:], quotes[:-1] + 1, out=begins[1:])
        first_i = np.flatnonzero(begins)
        first = quotes[first_i]                       # first quote of each run
        k = np.diff(np.append(first_i, len(quotes)))  # quotes in the run
        last = first + k - 1
        before = a[first - 1]                         # start >= 1: after the header's LF
        at_field_start = (before == COMMA) | (before == LF)
        odd = (k & 1).astype(bool)
        flips = np.cumsum(at_field_start & odd)
        reset_at = np.where(odd & ~at_field_start, np.arange(len(first)), -1)
        np.maximum.accumulate(reset_at, out=reset_at)
        flips_at_reset = np.where(reset_at >= 0, flips[np.maximum(reset_at, 0)], 0)
        inside = ((flips - flips_at_reset) & 1).astype(bool)
        span_lo = last[inside]
        span_hi = np.append(first[1:], end)[inside]
        lf_quoted, _ = positions_in_spans(np, lfs, span_lo, span_hi, True)
        if lf_quoted is not None:
            lfs = lfs[~lf_quoted]
        if inside[-1]:
            # The file ends inside a quoted field. It was opened by the last
            # run that went from outside to inside; its record begins after
            # the last LF (outside quotes) before that run.
            opened = inside.copy()
            opened[1:] &= ~inside[:-1]
            opener = first[np.flatnonzero(opened)[-1]]
            j = np.searchsorted(lfs, opener)
            cut = int(lfs[j - 1]) + 1 if j > 0 else start
            lfs = lfs[:j]
            commas = commas[commas < cut]
            keep = span_lo < cut
            span_lo, span_hi = span_lo[keep], span_hi[keep]
    starts = np.concatenate(([start], lfs + 1)).astype(np.int64)
    ends = np.concatenate((lfs, [cut])).astype(np.int64)
    has_lf = np.ones(len(starts), dtype=bool)
    has_lf[-1] = False
    if starts[-1] >= cut:           # nothing after the last LF (or before the cut)
        starts, ends, has_lf = starts[:-1], ends[:-1], has_lf[:-1]
    # Fields: 1 + the commas of the record that are not inside quotes.
    # Records are contiguous (each starts after the previous one's LF), so
    # one search gives every record's commas: those before the next start.
    commas_in = np.diff(np.searchsorted(commas, np.append(starts, cut)))
    if len(span_lo) and len(starts):
        _, quoted_commas = positions_in_spans(np, commas, span_lo, span_hi, False)
        has = quoted_commas > 0
        rec = np.searchsorted(starts, span_lo[has], side="right") - 1
        commas_in = commas_in - np.bincount(rec, weights=quoted_commas[has],
                                            minlength=len(starts)).astype(np.int64)
    last_byte = a[np.clip(ends - 1, 0, end - 1)]
    first_byte = a[np.clip(starts, 0, end - 1)]
    blank = has_lf & ((ends == starts) | ((ends == starts + 1) & (first_byte == CR)))
    crlf = has_lf & (ends > starts) & (last_byte == CR)
    return {"starts": starts, "ends": ends, "fields": commas_in + 1, "blank": blank,
            "crlf": crlf, "cut": cut}


# ---- the job ----------------------------------------------------------------------

def read_records(np, pd, data, start, cut, nfields, dtypes, nrecords):
    """The needed columns (dtypes: {column index: dtype}) of every record, as
    Series, one row per record (skip_blank_lines=False keeps pandas' rows in
    step with the records)."""
    if nrecords == 0:
        return {c: pd.Series([], dtype=t) for c, t in dtypes.items()}
    names = [f"f{i}" for i in range(nfields)]
    options = dict(header=None, names=names, usecols=sorted(dtypes), index_col=False,
                   dtype={names[c]: t for c, t in dtypes.items()}, na_filter=False,
                   lineterminator="\n", skip_blank_lines=False, engine="c",
                   encoding=ENCODING, encoding_errors=ERRORS)
    try:
        df = pd.read_csv(io.BytesIO(data[start:cut]), **options)
    except pd.errors.ParserError as e:
        if "Too many columns specified" not in str(e):
            raise
        # read_csv (low_memory, the default and faster here) converts its
        # rows in chunks of about 131072 records, and refuses a chunk in
        # which no record has as many fields as `names`. Only a file whose
        # records all lack fields does that: read it again in one chunk
        # behind a record of empty fields, dropped after.
        filler = b"," * (nfields - 1) + b"\n"
        df = pd.read_csv(io.BytesIO(filler + data[start:cut]), low_memory=False, **options)
        df = df.iloc[1:]
    if len(df) != nrecords:
        raise RuntimeError(f"pandas returned {len(df)} rows for {nrecords} records")
    return {c: df[names[c]] for c in dtypes}


def usd_cents(np, cents, rate_ppm):
    """c2_to_usd_cents: round(cents * rate_ppm / 1e6), half away from zero, in int64."""
    product = cents * rate_ppm                      # |.| < 2e18: fits int64
    magnitude = np.abs(product)
    q = magnitude // 1000000 + (magnitude % 1000000 >= 500000)
    return np.where(product < 0, -q, q)


def group_mean(np, total, count):
    """c2_group_mean: total / count rounded half away from zero, in int64."""
    magnitude = np.abs(total)
    q = magnitude // count + (2 * (magnitude % count) >= count)
    return np.where(total < 0, -q, q)


def check_timestamps(np, ts):
    """The timestamp rule on an object array of str: (valid, day as the
    integer YYYYMMDD, hour). The strings become a fixed-width array (one
    uint32 code point per character, 21 wide: a 21st character means too
    long, a 0 means too short) and every position is checked at once: the
    shape (what the regex [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z
    says), then the calendar on the digits. For 10^6 rows on the 2-core
    EPYC this took about 0.3 s; Series.str.fullmatch with that regex took
    0.4 s for the shape alone, and pd.to_datetime(format=..., errors='coerce')
    2.2 s (and it stops at the year 2262)."""
    n = len(ts)
    chars = ts.astype("U21").view(np.uint32).reshape(n, 21)
    digit_at = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
    d = chars[:, digit_at] - np.uint32(48)      # unsigned: a byte below '0' wraps high
    shape = d.max(axis=1) <= 9
    for at, ch in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "Z")):
        shape &= chars[:, at] == ord(ch)
    shape &= chars[:, 20] == 0
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month, mday = d[:, 4] * 10 + d[:, 5], d[:, 6] * 10 + d[:, 7]
    hour, minute, second = d[:, 8] * 10 + d[:, 9], d[:, 10] * 10 + d[:, 11], d[:, 12] * 10 + d[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    dim = month_days[np.clip(month - 1, 0, 11)] + ((month == 2) & leap)
    valid = (shape & (year >= 1970) & (month >= 1) & (month <= 12) & (mday >= 1) & (mday <= dim)
             & (hour <= 23) & (minute <= 59) & (second <= 59))
    day = (year * 10000 + month * 100 + mday).astype(np.int64)
    return valid, day, hour.astype(np.int64)


def amounts_in_cents(np, pd, distinct):
    """The amount rule on an Index of distinct strings: (valid, cents), in
    integers: the digits without the '.', times 100, 10 or 1 for 0, 1 or 2
    decimals."""
    distinct = pd.Series(distinct, dtype=object)
    ok = distinct.str.fullmatch(AMOUNT_RE).to_numpy(dtype=bool)
    cents = np.zeros(len(distinct), dtype=np.int64)
    if ok.any():
        good = distinct[ok]
        dot = good.str.find(".").to_numpy()
        decimals = np.where(dot < 0, 0, good.str.len().to_numpy() - dot - 1)
        whole = good.str.replace(".", "", regex=False).astype(np.int64).to_numpy()
        cents[ok] = whole * np.array([100, 10, 1], dtype=np.int64)[decimals]
    return ok, cents


def run_job(np, pd, path, out_dir, phases):
    """The whole job once; writes groups.csv and summary.csv to out_dir;
    returns the summary counts. Adds each phase's seconds to phases."""
    clock = time.perf_counter
    t0 = clock()
    data = read_input(path)
    fields, data_start = scan_header(data, path)
    col = find_columns(fields, path)
    nfields = len(fields)
    t1 = clock()

    st = scan_structure(np, data, data_start)
    nrec = len(st["starts"])
    unterminated = 1 if st["cut"] < len(data) else 0
    t2 = clock()

    # Timestamps are nearly all distinct: plain strings. Categories and
    # currencies take a few values: category dtype (read_csv hashes them as
    # it reads, and the rules then run once per distinct value). Amounts take
    # about one value in ten rows, too many for category to pay in read_csv:
    # factorized after.
    ts_c, cat_c, amt_c, cur_c = col["timestamp"], col["category"], col["amount"], col["currency"]
    values = read_records(np, pd, data, data_start, st["cut"], nfields,
                          {ts_c: object, cat_c: "category", amt_c: object, cur_c: "category"}, nrec)
    t3 = clock()

    # Structure: the first reasons, from the field counts.
    is_row = ~st["blank"]
    fc = st["fields"]
    missing = int(np.count_nonzero(is_row & (fc < nfields)))
    extra = int(np.count_nonzero(is_row & (fc > nfields)))
    complete = np.flatnonzero(is_row & (fc == nfields))
    # The CR of a CR LF ends the last field in pandas (lineterminator='\n');
    # the rules drop it. It matters only when the last column is one we use.
    last = nfields - 1
    if last in values:
        strip = complete[st["crlf"][complete]]
        if len(strip):
            v = values[last].astype(object).to_numpy(dtype=object, copy=True)
            v[strip] = pd.Series(v[strip], dtype=object).str[:-1].to_numpy(dtype=object)
            values[last] = pd.Series(v, dtype=object).astype(values[last].dtype.name)

    def distinct(c):
        """(codes of the complete rows, distinct values as an Index)."""
        s = values[c]
        if s.dtype.name == "category":
            return s.cat.codes.to_numpy()[complete], s.cat.categories
        codes, uniques = pd.factorize(s.to_numpy(dtype=object)[complete])
        return codes, pd.Index(uniques, dtype=object)

    ts_ok, day, hour = check_timestamps(np, values[ts_c].to_numpy(dtype=object)[complete])
    a_codes, a_distinct = distinct(amt_c)
    a_ok, a_cents = amounts_in_cents(np, pd, a_distinct)
    amt_ok, cents = a_ok[a_codes], a_cents[a_codes]
    c_codes, c_distinct = distinct(cur_c)
    cur_i = pd.Index(list(RATES_PPM)).get_indexer(c_distinct)[c_codes]   # -1: unknown
    bad_ts = int(np.count_nonzero(~ts_ok))
    bad_amt = int(np.count_nonzero(ts_ok & ~amt_ok))
    unknown = int(np.count_nonzero(ts_ok & amt_ok & (cur_i < 0)))
    acc = ts_ok & amt_ok & (cur_i >= 0)

    # Transform the accepted rows: US cents, and categories normalized once
    # per distinct spelling (several spellings become one name).
    rates = np.array(list(RATES_PPM.values()), dtype=np.int64)
    usd = usd_cents(np, cents[acc], rates[cur_i[acc]])
    k_codes, k_distinct = distinct(cat_c)
    normalized = k_distinct.str.strip(" \t").str.translate(ASCII_LOWER) if len(k_distinct) \
        else k_distinct
    name_of, names = pd.factorize(normalized)
    cat_code = name_of[k_codes[acc]]
    t4 = clock()

    # Load: groups and the hour histogram.
    frame = pd.DataFrame({"day": day[acc], "cat": cat_code, "usd": usd})
    g = frame.groupby(["day", "cat"], sort=False)["usd"].agg(["count", "sum", "min", "max"])
    g_day = g.index.get_level_values("day").to_numpy(dtype=np.int64)
    g_cat = g.index.get_level_values("cat").to_numpy(dtype=np.int64)
    cat_bytes = [s.encode(ENCODING, ERRORS) for s in names]     # distinct names, not rows
    rank = np.empty(len(cat_bytes), dtype=np.int64)
    rank[sorted(range(len(cat_bytes)), key=cat_bytes.__getitem__)] = np.arange(len(cat_bytes))
    order = np.lexsort((rank[g_cat], g_day)) if len(g) else np.zeros(0, dtype=np.int64)
    count = g["count"].to_numpy(dtype=np.int64)[order]
    total = g["sum"].to_numpy(dtype=np.int64)[order]
    low = g["min"].to_numpy(dtype=np.int64)[order]
    high = g["max"].to_numpy(dtype=np.int64)[order]
    mean = group_mean(np, total, count) if len(count) else count
    hours = np.bincount(hour[acc], minlength=24)
    t5 = clock()

    counts = {"rows": int(np.count_nonzero(is_row)) + unterminated,
              "accepted": int(np.count_nonzero(acc)),
              "rejected": [unterminated, missing, extra, bad_ts, bad_amt, unknown],
              "hours": [int(h) for h in hours[:24]], "groups": len(count)}
    write_outputs(out_dir, g_day[order], [cat_bytes[c] for c in g_cat[order]],
                  count, total, low, high, mean, counts)
    t6 = clock()
    for name, seconds in (("read + header", t1 - t0), ("record structure (numpy)", t2 - t1),
                          ("read_csv", t3 - t2), ("validate + transform", t4 - t3),
                          ("aggregate", t5 - t4), ("write", t6 - t5)):
        phases.setdefault(name, []).append(seconds)
    return counts


# ---- output files (output.c's formats) ---------------------------------------------

def usd_text(c):
    """put_usd: -?digits.2digits from integer cents."""
    m = -c if c < 0 else c
    return f"{'-' if c < 0 else ''}{m // 100}.{m % 100:02d}"


def csv_field(b):
    """put_field: RFC 4180 quoting when the bytes hold , \" CR or LF."""
    if any(ch in b for ch in (b",", b'"', b"\r", b"\n")):
        return b'"' + b.replace(b'"', b'""') + b'"'
    return b


def write_atomically(path, payload):
    """Writes to a temporary name in the same folder, then renames."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", dir=folder)
    try:
        umask = os.umask(0)                 # mkstemp makes 0600: give it the usual mode
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_outputs(out_dir, days, cats, count, total, low, high, mean, counts):
    # One line per group (a few hundred), not per row.
    lines = [b"day,category,count,sum_usd,min_usd,max_usd,mean_usd\n"]
    for i in range(len(count)):
        d = int(days[i])
        lines.append(b"%04d-%02d-%02d," % (d // 10000, d // 100 % 100, d % 100) + csv_field(cats[i])
                     + (f",{int(count[i])},{usd_text(int(total[i]))},{usd_text(int(low[i]))},"
                        f"{usd_text(int(high[i]))},{usd_text(int(mean[i]))}\n").encode())
    write_atomically(os.path.join(out_dir, "groups.csv"), b"".join(lines))
    rej = counts["rejected"]
    s = [f"item,value\nrows,{counts['rows']}\naccepted,{counts['accepted']}\nrejected,{sum(rej)}\n"]
    s += [f"rejected_{REASONS[i]},{rej[i]}\n" for i in range(len(REASONS))]
    s += [f"hour_{h:02d},{counts['hours'][h]}\n" for h in range(24)]
    write_atomically(os.path.join(out_dir, "summary.csv"), "".join(s).encode())


def first_difference(mine, theirs):
    """(line number, my line, their line) of the first difference, or None."""
    a, b = mine.split(b"\n"), theirs.split(b"\n")
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else b"<end of file>"
        y = b[i] if i < len(b) else b"<end of file>"
        if x != y:
            return i + 1, x, y
    return None


# ---- main -------------------------------------------------------------------------

def cpu_model():
    """The CPU's name (Linux), for the record of where the time was measured."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    args = parse_args()
    try:
        import numpy as np
        import pandas as pd
    except ImportError as e:
        print(f"skipped: pandas or numpy is not installed ({e})", file=sys.stderr)
        return 77
    if args.expect:
        for f in ("groups.csv", "summary.csv"):
            if not os.path.isfile(os.path.join(args.expect, f)):
                print(f"{PROG}: --expect {args.expect}: no {f} there (write it with "
                      f"case02_data_pipeline --input FILE --out DIR)", file=sys.stderr)
                return 2
    if args.out:
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as e:
            print(f"{PROG}: --out {args.out}: cannot create: {e.strerror}", file=sys.stderr)
            return 2

    work = tempfile.mkdtemp(prefix="case02_pandas_")
    try:
        phases, times, counts = {}, [], None
        for i in range(args.warmup + args.repeat):
            run_phases = {}
            t0 = time.perf_counter()
            counts = run_job(np, pd, args.input, work, run_phases)
            elapsed = time.perf_counter() - t0
            if i >= args.warmup:
                times.append(elapsed)
                for k, v in run_phases.items():
                    phases.setdefault(k, []).extend(v)
        mine = {}
        for f in ("groups.csv", "summary.csv"):
            with open(os.path.join(work, f), "rb") as fh:
                mine[f] = fh.read()
        if args.out:
            for f, payload in mine.items():
                write_atomically(os.path.join(args.out, f), payload)
    except InputError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"{PROG}: out of memory", file=sys.stderr)
        return 3
    except (RuntimeError, pd.errors.ParserError) as e:
        print(f"{PROG}: internal inconsistency: {e}", file=sys.stderr)
        return 3
    except OSError as e:
        print(f"{PROG}: {e.filename or args.out}: {e.strerror}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)

    size = os.path.getsize(args.input)
    rows = counts["rows"]
    med = statistics.median(times)
    rej = counts["rejected"]
    print(f"case02 in pandas: {args.input}")
    print(f"  {rows} rows, {size / 1e6:.1f} MB: {counts['accepted']} accepted, {sum(rej)} rejected ("
          + ", ".join(f"{REASONS[i]} {rej[i]}" for i in range(len(REASONS))) + f"), "
          f"{counts['groups']} groups")
    print(f"  pandas {pd.__version__}, numpy {np.__version__}, Python {platform.python_version()}")
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    if importlib.util.find_spec("pyarrow") is not None:
        arrow = "pyarrow is installed but not used: its engine takes no lineterminator in pandas 1.5"
    else:
        arrow = "pyarrow is not installed"
    print(f"  threads: 1 (read_csv's C engine, the str methods and groupby run on one core; "
          f"{cores} available; {arrow})")
    print(f"  machine: {cpu_model()}")
    print(f"  time of the whole job, {args.repeat} runs after {args.warmup} warm-up: median {med:.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f})")
    print(f"  {rows / med:,.0f} records/s, {size / 1e6 / med:.1f} MB/s")
    print("  phases (median s):  " + ", ".join(f"{k} {statistics.median(v):.3f}" for k, v in phases.items()))
    print("  exactness: all six reasons are counted exactly. read_csv alone cannot: it pads a short "
          "record with '' (the same value as an empty field), drops extra fields under usecols, and "
          "raises on a quote open at the end of the file; field counts, that record and the record "
          "boundaries come from the numpy pass (the 'record structure' phase).")

    check = "none"
    if args.expect:
        check = "PASS"
        for f in ("groups.csv", "summary.csv"):
            with open(os.path.join(args.expect, f), "rb") as fh:
                theirs = fh.read()
            diff = first_difference(mine[f], theirs)
            if diff is None:
                print(f"  {f}: PASS (identical to {os.path.join(args.expect, f)}, {len(theirs)} bytes)")
            else:
                check = "FAIL"
                line, x, y = diff
                print(f"  {f}: FAIL at line {line}: pandas {x.decode('utf-8', 'backslashreplace')!r}, "
                      f"C {y.decode('utf-8', 'backslashreplace')!r}")
        print(check)
    # The last line, for scripts: machine-readable.
    print(f"RESULT rows={rows} bytes={size} median_s={med:.4f} min_s={min(times):.4f} "
          f"max_s={max(times):.4f} records_per_s={rows / med:.0f} pandas={pd.__version__} "
          f"numpy={np.__version__} threads=1 check={check}")
    return 1 if check == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
