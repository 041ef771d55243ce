"""Reference reader: what a Python MCP server (the `mcp` package, 1.x, streamable HTTP
transport) would dispatch for one HTTP POST body.

Line protocol, for test/differential/readers/reference-readers.ts:

    stdin:  {"body":"<base64>"}                one request per line
    stdout: {"accepted":true,"messages":[{"method":"tools/call","tool":"get_issue"}]}
            {"accepted":false,"messages":[],"error":"..."}   the POST gets an HTTP error

"messages" lists the request or notification whose handler would run; a message the session
refuses after the transport took it (unknown method, params of the wrong shape) is answered
with an error or dropped, and listed as nothing. The transport takes exactly one message per
POST (a JSON array fails validation: no batches) and parses it with json.loads on the raw
bytes, which is why this reader does the same: that call detects UTF-8 (with or without BOM),
UTF-16 and UTF-32 from the first bytes, keeps the last of duplicate keys, matches keys
case-sensitively and accepts NaN and Infinity.

The SDK validates with pydantic models. This file models them with the standard library only,
as far as they decide which method and tool run: the envelope (jsonrpc, id, method, params),
which member of the message union wins, and the method-specific params check the session runs
before dispatch. Some deep field checks (a resource URI's syntax past its scheme, a
capability object's members, a task timestamp's syntax) are left out: those can only turn a
dispatch of that method into an error, never change which method or tool runs.
"""

import base64
import binascii
import json
import re
import sys


def is_request_id(value):
    # A request id is a strict int or a str: strict refuses bool (an int subclass in Python)
    # and floats, even 1.0.
    return type(value) is int or type(value) is str


def is_strict_int(value):
    return type(value) is int


def is_lax_int(value):
    # A plain (lax) int field also takes bools, integral floats and numeric strings.
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        # Integral decimal strings, "2.0" included.
        return re.fullmatch(r"\s*[+-]?[0-9][0-9_]*(\.0*)?\s*", value) is not None
    return False


def is_lax_float(value):
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        try:
            float(value.strip())
        except ValueError:
            return False
        return True
    return False


def is_str(value):
    return type(value) is str


def is_dict(value):
    return isinstance(value, dict)


def optional(check):
    return lambda value: value is None or check(value)


def is_str_or_lax_int(value):
    return is_str(value) or is_lax_int(value)


def is_uri(value):
    # URIs are parsed as URLs; only the scheme that requires is checked here.
    return is_str(value) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value) is not None


def is_implementation(value):
    return is_dict(value) and is_str(value.get("name")) and is_str(value.get("version"))


def is_str_dict(value):
    return is_dict(value) and all(is_str(v) for v in value.values())


def is_completion_ref(value):
    if not is_dict(value):
        return False
    if value.get("type") == "ref/prompt":
        return is_str(value.get("name"))
    if value.get("type") == "ref/resource":
        return is_str(value.get("uri"))
    return False


TASK_STATUSES = {"working", "input_required", "completed", "failed", "cancelled"}
LOGGING_LEVELS = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}

# Request methods a server session knows: whether params may be absent (or null), and the
# members its params model requires (True) or allows (False), each with its type check.
CLIENT_REQUESTS = {
    "ping": (True, {}),
    "initialize": (
        False,
        {
            "protocolVersion": (True, is_str_or_lax_int),
            "capabilities": (True, is_dict),
            "clientInfo": (True, is_implementation),
        },
    ),
    "completion/complete": (
        False,
        {"ref": (True, is_completion_ref), "argument": (True, is_dict)},
    ),
    "logging/setLevel": (False, {"level": (True, lambda v: is_str(v) and v in LOGGING_LEVELS)}),
    "prompts/get": (False, {"name": (True, is_str), "arguments": (False, is_str_dict)}),
    "prompts/list": (True, {"cursor": (False, is_str)}),
    "resources/list": (True, {"cursor": (False, is_str)}),
    "resources/templates/list": (True, {"cursor": (False, is_str)}),
    "resources/read": (False, {"uri": (True, is_uri)}),
    "resources/subscribe": (False, {"uri": (True, is_uri)}),
    "resources/unsubscribe": (False, {"uri": (True, is_uri)}),
    "tools/call": (False, {"name": (True, is_str), "arguments": (False, is_dict)}),
    "tools/list": (True, {"cursor": (False, is_str)}),
    "tasks/get": (False, {"taskId": (True, is_str)}),
    "tasks/result": (False, {"taskId": (True, is_str)}),
    "tasks/cancel": (False, {"taskId": (True, is_str)}),
    "tasks/list": (True, {"cursor": (False, is_str)}),
}

CLIENT_NOTIFICATIONS = {
    "notifications/cancelled": (
        False,
        {"requestId": (False, is_request_id), "reason": (False, is_str)},
    ),
    "notifications/progress": (
        False,
        {
            "progressToken": (True, is_str_or_lax_int),
            "progress": (True, is_lax_float),
            "total": (False, is_lax_float),
            "message": (False, is_str),
        },
    ),
    "notifications/initialized": (True, {}),
    "notifications/roots/list_changed": (True, {}),
    "notifications/tasks/status": (
        False,
        {
            "taskId": (True, is_str),
            "status": (True, lambda v: is_str(v) and v in TASK_STATUSES),
            # Timestamps are parsed as datetimes; their syntax is not modelled here.
            "createdAt": (True, lambda v: is_str(v) or is_lax_float(v)),
            "lastUpdatedAt": (True, lambda v: is_str(v) or is_lax_float(v)),
            # Nullable but required, and the dump leaves nulls out: only an int passes.
            "ttl": (True, is_strict_int),
            "pollInterval": (False, is_strict_int),
            "statusMessage": (False, is_str),
        },
    ),
}


def request_meta_ok(params):
    # Request params carry typed _meta and task models (notifications only _meta); a task's
    # ttl is a strict int.
    meta = params.get("_meta")
    if meta is not None and not (
        is_dict(meta) and optional(is_str_or_lax_int)(meta.get("progressToken"))
    ):
        return False
    task = params.get("task")
    if task is not None and not (is_dict(task) and optional(is_strict_int)(task.get("ttl"))):
        return False
    return True


def notification_meta_ok(params):
    return optional(is_dict)(params.get("_meta"))


def classify(message):
    """Which member of the JSON-RPC message union the parsed body validates as, or None when
    none does (HTTP 400). Pydantic's smart union (2.8 and later) picks, among the members that
    validate, the one with the most fields set, counting the fields of nested models: extra
    keys are allowed and count for every member alike, so an error response (its "error" is a
    nested model) beats everything, and otherwise the union's order decides: request,
    notification, response."""
    if not is_dict(message):
        return None
    if not (is_str(message.get("jsonrpc")) and message["jsonrpc"] == "2.0"):
        return None
    error = message.get("error")
    if (
        is_str_or_lax_int(message.get("id"))
        and is_dict(error)
        and is_lax_int(error.get("code"))
        and is_str(error.get("message"))
    ):
        # A message with a method and an id is still an error response, and runs nothing.
        return "error"
    has_method = is_str(message.get("method")) and optional(is_dict)(message.get("params"))
    if has_method and is_request_id(message.get("id")):
        return "request"
    if has_method:
        # An id that is not a valid request id (null, 1.0, true) is just an extra key here.
        return "notification"
    if is_request_id(message.get("id")) and is_dict(message.get("result")):
        return "response"
    return None


def params_valid(params, params_optional, members):
    if params is None:
        return params_optional
    for key, (required, check) in members.items():
        if key not in params:
            if required:
                return False
            continue
        value = params[key]
        if value is None:
            # The session validates a dump that leaves out None values, so an explicit null
            # reads as absent.
            if required:
                return False
            continue
        if not check(value):
            return False
    return True


def dispatch(message, kind):
    """The session re-validates a request or notification as one of its known types; a failure
    there is answered with an error (requests) or dropped (notifications)."""
    method = message["method"]
    table = CLIENT_REQUESTS if kind == "request" else CLIENT_NOTIFICATIONS
    if method not in table:
        return None
    params_optional, members = table[method]
    params = message.get("params")
    if not params_valid(params, params_optional, members):
        return None
    if params is not None:
        meta_ok = request_meta_ok if kind == "request" else notification_meta_ok
        if not meta_ok(params):
            return None
    if method == "tools/call":
        return {"method": method, "tool": params["name"]}
    return {"method": method}


def reject(error):
    return {"accepted": False, "messages": [], "error": error}


def read_body(body):
    try:
        message = json.loads(body)
    except (ValueError, RecursionError) as error:
        # ValueError covers JSONDecodeError, bytes undecodable in the detected encoding and
        # integer literals past the interpreter's digit limit: each fails the POST.
        return reject(f"Parse error: {type(error).__name__}: {error}")
    kind = classify(message)
    if kind is None:
        if isinstance(message, list):
            return reject("Validation error: a JSON array is not a JSON-RPC message (no batches)")
        return reject("Validation error: not a JSON-RPC request, notification or response")
    if kind in ("response", "error"):
        return {"accepted": True, "messages": []}
    out = dispatch(message, kind)
    return {"accepted": True, "messages": [] if out is None else [out]}


def answer(line):
    try:
        request = json.loads(line)
        body = base64.b64decode(request["body"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        return reject(f"reader protocol: bad input line: {error}")
    return read_body(body)


def main():
    for line in sys.stdin.buffer:
        # ensure_ascii writes lone surrogates (json.loads accepts them from \ud800 escapes) as
        # escapes, which keeps every answer line valid UTF-8.
        sys.stdout.write(json.dumps(answer(line), ensure_ascii=True) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
