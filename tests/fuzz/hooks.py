"""Schemathesis checks for the smart-npc GraphQL gateway (loaded via SCHEMATHESIS_HOOKS).

Every response the fuzzer provokes must be a well-formed GraphQL answer: no 5xx, a JSON
body, and every error carrying a stable `extensions.code` other than `INTERNAL`. The
built-in `not_a_server_error` check is not used: for GraphQL it treats *any* entry in
`errors` (a `FORBIDDEN`, a `BAD_USER_INPUT`) as a server error, while a coded client
error is exactly what hostile input should get.
"""

import json

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Files arrive only in multipart requests (the GraphQL multipart request spec). In a
# JSON request an `Upload` argument is just a string, the engine's file marker among
# them (the engine panics on a malformed one): the gateway must refuse each with a
# code, never a 5xx.
schemathesis.graphql.scalar(
    "Upload",
    st.one_of(
        st.text(max_size=40),
        st.integers(min_value=0, max_value=5).map(lambda n: f"#__graphql_file__:{n}"),
        st.just("#__graphql_file__:x"),
    ).map(nodes.String),
)


def _body(response):
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as error:
        raise AssertionError(
            f"the body is not JSON ({error}): {response.content[:300]!r}"
        ) from None


@schemathesis.check
def no_server_error(ctx, response, case):
    """No 5xx, whatever the request."""
    if response.status_code >= 500:
        raise AssertionError(
            f"HTTP {response.status_code}: {response.content[:300]!r}"
        )


@schemathesis.check
def json_response(ctx, response, case):
    """The body parses as a JSON object holding `data` or `errors`."""
    body = _body(response)
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        raise AssertionError(
            f"not a GraphQL response (no data, no errors): {response.content[:300]!r}"
        )


@schemathesis.check
def errors_have_code(ctx, response, case):
    """Every error carries a string `extensions.code`."""
    body = _body(response)
    if not isinstance(body, dict):
        return
    for error in body.get("errors") or []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if not isinstance(code, str) or not code:
            raise AssertionError(f"an error without extensions.code: {json.dumps(error, ensure_ascii=False)}")


@schemathesis.check
def no_internal_error(ctx, response, case):
    """No error is `INTERNAL`: bad input gets a client error code."""
    body = _body(response)
    if not isinstance(body, dict):
        return
    for error in body.get("errors") or []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and extensions.get("code") == "INTERNAL":
            raise AssertionError(f"an INTERNAL error: {json.dumps(error, ensure_ascii=False)}")
