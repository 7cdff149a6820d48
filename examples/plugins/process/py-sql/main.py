"""py-sql: SQL over the input, with Python's own sqlite3 (something a WASM
plugin cannot do), through Pocket's Python SDK.

pocket_plugin.py is copied beside this file by scripts/build-plugins.sh
(from backends/process/sdks/python): a plugin directory holds all it runs.
"""

import sqlite3

from pocket_plugin import Action, InvalidConfig, InvalidInput, Plugin

plugin = Plugin(
    "py-sql",
    version="1.0.0",
    description="SQL over the input's rows, with Python's sqlite3",
    author="Pocket examples",
    permissions=["log", "kv"],
)


def check_sql(config):
    sql = (config or {}).get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidConfig("`sql` must be a query")
    if not sql.lstrip().lower().startswith(("select", "with")):
        raise InvalidConfig("`sql` must be a SELECT (the table is read-only)")


@plugin.node(
    "query",
    description="Loads the input (a list of objects) as table `rows` and runs `sql` on it",
    config_schema={
        "type": "object",
        "required": ["sql"],
        "properties": {"sql": {"type": "string"}},
    },
    examples=[
        {
            "input": [{"city": "Oslo", "n": 3}, {"city": "Rome", "n": 5}, {"city": "Oslo", "n": 4}],
            "config": {"sql": "SELECT city, SUM(n) AS total FROM rows GROUP BY city ORDER BY total DESC"},
            "output": [{"city": "Oslo", "total": 7}, {"city": "Rome", "total": 5}],
        },
        {"input": "not rows", "config": {"sql": "SELECT 1"}, "error": "a list of objects"},
    ],
    prepare=check_sql,
)
def query(rows, config, ctx):
    check_sql(config)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidInput("the input must be a list of objects")
    columns = sorted({key for row in rows for key in row})
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    if columns:
        names = ", ".join('"%s"' % c.replace('"', '""') for c in columns)
        db.execute("CREATE TABLE rows (%s)" % names)
        db.executemany(
            "INSERT INTO rows VALUES (%s)" % ", ".join("?" for _ in columns),
            [[row.get(c) for c in columns] for row in rows],
        )
    result = [dict(r) for r in db.execute(config["sql"]).fetchall()]
    ctx.log("info", "query: %d rows in, %d out" % (len(rows), len(result)))
    return result


@plugin.node(
    "tally",
    description="Counts its calls in the run's kv store and chooses `first` or `again`",
    examples=[{"input": "x", "output": {"calls": 1}, "action": "first"}],
)
def tally(value, config, ctx):
    calls = (ctx.kv_get("calls") or 0) + 1
    ctx.kv_set("calls", calls)
    return Action({"calls": calls}, "first" if calls == 1 else "again")


@plugin.node("echo", description="Returns its input")
def echo(value, config, ctx):
    return value


plugin.run()
