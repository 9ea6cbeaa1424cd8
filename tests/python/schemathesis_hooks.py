"""Schemathesis hooks for nsx-policy-store's API documents: NDJSON bodies.

The export answers, and the import takes, one JSON object a line
(`application/x-ndjson`). A generated body is sent as it is, like text; an answer
is checked line by line to be JSON before its schema (a string) is checked.
"""

import json

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@schemathesis.deserializer("application/x-ndjson")
def ndjson(ctx, response):
    text = response.content.decode("utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            json.loads(line)
        except ValueError as err:
            raise ValueError(f"line {number} is not JSON: {err}") from err
    return text
