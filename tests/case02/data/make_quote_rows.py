#!/usr/bin/env python3
"""Writes quote_rows.csv: rows whose quotes take every part the CSV rules give
them, at every position relative to fast's 64-byte window.

fast (fast_scan.h) reads a row that ends within 64 bytes through bit masks, quotes
included (prefix_xor), and sends a row whose quotes play an unusual part
(a quote inside an unquoted field, text after a closing quote, a quoted
field ending in CRLF) to its general scanner. case02.quote_rows_all_kinds
runs this file through every rung and compares each with slow. Run again
only to change the file: the output is fixed by the seed."""
import random

rng = random.Random(20261123)

def text(n):
    return "".join(rng.choice("abcXYZ ,;-") for _ in range(n))

def category():
    kind = rng.randrange(12)
    t = text(rng.randrange(0, 14))
    if kind == 0:   # plain, no quote
        return t.replace(",", "")
    if kind == 1:   # quoted, with commas
        return '"' + t + '"'
    if kind == 2:   # quoted, with doubled quotes
        a, b = text(rng.randrange(0, 6)), text(rng.randrange(0, 6))
        return '"' + a + '""' + b + '""' + '"'
    if kind == 3:   # quoted, empty
        return '""'
    if kind == 4:   # a quote inside an unquoted field: an ordinary byte
        return "ab" + '"' + t.replace(",", "")
    if kind == 5:   # text after the closing quote: appended
        return '"' + t + '"' + "tail"
    if kind == 6:   # quoted, with a newline inside
        return '"' + t + "\n" + text(3) + '"'
    if kind == 7:   # quoted, a CR LF inside
        return '"' + t + "\r\n" + text(2) + '"'
    if kind == 8:   # only doubled quotes
        return '""""'
    if kind == 9:   # a quote right after a doubled one at the end
        return '"' + text(3) + '"""'
    if kind == 10:  # long quoted value (past 16 bytes, past the window)
        return '"' + text(rng.randrange(17, 60)) + '"'
    return " Books "

def quoted_maybe(value):
    return '"' + value + '"' if rng.random() < 0.2 else value

rows = []
for i in range(1, 601):
    ts = "2026-03-%02dT%02d:%02d:%02dZ" % (rng.randrange(1, 29), rng.randrange(24), rng.randrange(60), rng.randrange(60))
    amount = "%d.%02d" % (rng.randrange(0, 2000), rng.randrange(100))
    cur = rng.choice(["USD", "EUR", "GBP", "JPY"])
    country = rng.choice(["US", "FR", '"DE"', '"G""B"'])
    fields = [str(i), quoted_maybe(ts), str(rng.randrange(100000)), category(), quoted_maybe(amount),
              quoted_maybe(cur), country]
    if rng.random() < 0.03:
        fields.append("extra")
    if rng.random() < 0.03:
        fields.pop(2)
    rows.append(",".join(fields) + ("\r\n" if rng.random() < 0.3 else "\n"))

with open("quote_rows.csv", "w", newline="") as f:
    f.write("txn_id,timestamp,user_id,category,amount,currency,country\n")
    f.writelines(rows)
