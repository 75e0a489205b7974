"""Parses SQL with sqlglot in one dialect and prints a JSON summary: how many statements parsed,
and each failure with its statement's first line. Statements come on standard input, separated by
`;` at the end of a line (what `tweetlake catalog models` prints).

    tweetlake catalog models --engine spark | python sql_portability.py spark
"""
import json
import sys

import sqlglot
from sqlglot.errors import ParseError


def main():
    dialect = sys.argv[1]
    text = sys.stdin.read()
    parsed, failures = 0, []
    for statement in text.split(";\n"):
        body = "\n".join(l for l in statement.splitlines() if not l.startswith("--")).strip()
        if not body:
            continue
        try:
            tree = sqlglot.parse_one(body, read=dialect)
        except ParseError as e:
            failures.append({"statement": body.splitlines()[0], "error": str(e)[:300]})
            continue
        # What sqlglot writes back in the dialect must parse again: the statement round-trips.
        sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect)
        parsed += 1
    print(json.dumps({"parsed": parsed, "failures": failures}))


if __name__ == "__main__":
    main()
