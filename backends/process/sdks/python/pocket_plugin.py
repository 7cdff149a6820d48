"""Pocket process plugins in Python 3, with the standard library only.

A plugin is a program Pocket starts and talks to over its stdin and stdout
(docs/process-protocol.md). This module speaks that protocol, so a plugin
is its node functions:

    from pocket_plugin import Plugin, Action, InvalidInput

    plugin = Plugin("py-text", version="1.0.0", description="Text helpers",
                    permissions=["log", "kv"])

    @plugin.node("upper", description="Upper-cases a string",
                 examples=[{"input": "a", "output": "A"}])
    def upper(input, config, ctx):
        if not isinstance(input, str):
            raise InvalidInput("expected a string")
        ctx.log("info", "upper-casing")
        return input.upper()

    plugin.run()

A node function gets the node's input, its config (templates rendered) and
a `Context` for host calls (log, kv, config, env, http, plugin calls, each
checked by the host against the plugin's grants). It returns the output,
or `Action(output, "name")` to choose the next edge. An exception fails
the node with its message (`InvalidInput` and `InvalidConfig` say which
kind). Calls run on a thread pool, several at once; `print` goes to the
plugin's log, never to the protocol.
"""

import json
import os
import struct
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

PROTOCOL = 1
MAX_FRAME = 64 << 20


class InvalidInput(Exception):
    """The node cannot use its input."""


class InvalidConfig(Exception):
    """The node's config is unusable."""


class HostError(Exception):
    """A host call was refused or failed (a missing grant, a rate limit...)."""


class Action:
    """An output and the action (edge) the node chose."""

    def __init__(self, output, action):
        self.output = output
        self.action = action


class Context:
    """Host calls for one node call; each is answered by Pocket."""

    def __init__(self, plugin, call_id, attempt, timeout_ms):
        self._plugin = plugin
        self._call = call_id
        self.attempt = attempt
        self.timeout_ms = timeout_ms
        self.cancelled = threading.Event()

    def _host(self, function, **args):
        return self._plugin._host_call(self._call, function, args)

    def log(self, level, message):
        """Writes to Pocket's log (`log` grant): debug, info, warn, error."""
        self._host("log", level=level, message=str(message))

    def kv_get(self, key):
        """The run's value under `key` in this plugin's namespace (`kv`), or None."""
        return self._host("kv_get", key=key)

    def kv_set(self, key, value):
        """Sets the run's `key` in this plugin's namespace (`kv`)."""
        self._host("kv_set", key=key, value=value)

    def config(self, key):
        """The plugin's config value under `key`, or None."""
        return self._host("config_get", key=key)

    def env(self, name):
        """An environment variable an `env:` grant names, or None."""
        return self._host("env_get", name=name)

    def http(self, url, method="GET", headers=None, body=None):
        """An HTTP request through the host (`http:` grants); a dict with
        `status`, `headers` and `body`. The plugin itself has no network."""
        return self._host("http", url=url, method=method, headers=headers or {}, body=body)

    def call(self, node_type, input=None, config=None):
        """Runs another node type (`plugin_call:` grants); its output and action."""
        return self._host("plugin_call", type=node_type, input=input, config=config or {})


class Plugin:
    """A plugin: its description and node functions."""

    def __init__(self, name, version="0.1.0", description="", author="", permissions=None, workers=16):
        self.name = name
        self.version = version
        self.description = description
        self.author = author
        self.permissions = list(permissions or [])
        self._nodes = {}
        self._workers = workers
        self._write_lock = threading.Lock()
        self._host_lock = threading.Lock()
        self._host_waiting = {}
        self._next_host_id = 0
        self._calls = {}
        self._out = None

    def node(self, node_type, description="", config_schema=None, examples=None, prepare=None):
        """Registers a node function: `fn(input, config, ctx)`. `prepare`,
        if given, is called with a workflow node's config when the workflow
        is validated, and raises `InvalidConfig` to refuse it."""

        def register(fn):
            self._nodes[node_type] = {
                "fn": fn,
                "prepare": prepare,
                "description": {
                    "type": node_type,
                    "description": description,
                    "config_schema": config_schema,
                    "examples": list(examples or []),
                },
            }
            return fn

        return register

    # -- the protocol -----------------------------------------------------

    def _send(self, message):
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        if len(body) > MAX_FRAME:
            raise ValueError("a message of %d bytes is over the protocol's %d" % (len(body), MAX_FRAME))
        with self._write_lock:
            self._out.write(struct.pack("<I", len(body)) + body)
            self._out.flush()

    @staticmethod
    def _read(stream):
        header = stream.read(4)
        if len(header) < 4:
            return None
        (length,) = struct.unpack("<I", header)
        if length > MAX_FRAME:
            raise ValueError("a frame of %d bytes from the host" % length)
        return json.loads(stream.read(length).decode("utf-8"))

    def _host_call(self, call_id, function, args):
        with self._host_lock:
            self._next_host_id += 1
            host_id = self._next_host_id
            waiting = {"done": threading.Event()}
            self._host_waiting[host_id] = waiting
        self._send({"type": "host", "id": host_id, "call": call_id, "function": function, "args": args})
        waiting["done"].wait()
        if "error" in waiting:
            raise HostError(waiting["error"])
        return waiting.get("value")

    def _describe(self, message):
        self._send({
            "type": "described",
            "id": message["id"],
            "protocol": PROTOCOL,
            "plugin": {
                "name": self.name,
                "version": self.version,
                "description": self.description,
                "author": self.author,
                "permissions": self.permissions,
                "nodes": [node["description"] for node in self._nodes.values()],
            },
        })

    def _prepare(self, message):
        node = self._nodes.get(message.get("node_type"))
        if node is None:
            return self._error(message["id"], "unknown node type `%s`" % message.get("node_type"), "invalid_config")
        try:
            if node["prepare"] is not None:
                node["prepare"](message.get("config"))
            self._send({"type": "prepared", "id": message["id"]})
        except Exception as error:  # a refused config, whatever its class
            self._error(message["id"], _message(error), "invalid_config")

    def _exec(self, message):
        call_id = message["id"]
        node = self._nodes.get(message.get("node_type"))
        if node is None:
            return self._error(call_id, "unknown node type `%s`" % message.get("node_type"), "invalid_config")
        ctx = Context(self, call_id, message.get("attempt", 1), message.get("timeout_ms"))
        self._calls[call_id] = ctx
        try:
            result = node["fn"](message.get("input"), message.get("config"), ctx)
            if isinstance(result, Action):
                self._send({"type": "result", "id": call_id, "output": result.output, "action": result.action})
            else:
                self._send({"type": "result", "id": call_id, "output": result})
        except InvalidInput as error:
            self._error(call_id, _message(error), "invalid_input")
        except InvalidConfig as error:
            self._error(call_id, _message(error), "invalid_config")
        except Exception as error:  # the node failed, whatever its class
            traceback.print_exc()
            self._error(call_id, "%s: %s" % (type(error).__name__, _message(error)), "failed")
        finally:
            self._calls.pop(call_id, None)

    def _error(self, request_id, text, kind):
        self._send({"type": "error", "id": request_id, "message": text, "kind": kind})

    def run(self):
        """Serves the host until it says `shutdown` or closes stdin."""
        # The protocol keeps the real stdout; `print` goes to stderr (the log).
        self._out = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        source = os.fdopen(0, "rb")
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            while True:
                message = self._read(source)
                if message is None or message.get("type") == "shutdown":
                    break
                kind = message.get("type")
                if kind == "describe":
                    self._describe(message)
                elif kind == "prepare":
                    self._prepare(message)
                elif kind == "exec":
                    pool.submit(self._exec, message)
                elif kind == "cancel":
                    ctx = self._calls.get(message.get("id"))
                    if ctx is not None:
                        ctx.cancelled.set()
                elif kind == "host_result":
                    with self._host_lock:
                        waiting = self._host_waiting.pop(message.get("id"), None)
                    if waiting is not None:
                        if "error" in message:
                            waiting["error"] = message["error"]
                        else:
                            waiting["value"] = message.get("value")
                        waiting["done"].set()
            pool.shutdown(wait=False, cancel_futures=True)
        os._exit(0)


def _message(error):
    return str(error) or type(error).__name__
