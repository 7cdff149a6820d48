//! `string.find`, `string.match`, `string.gmatch` and `string.gsub` on a
//! matcher whose every step counts against the call's instruction limit,
//! clock and cancellation (see [`matcher`]). They replace Lua's own, which
//! backtrack inside one C call where no limit can reach them.
//!
//! Linear work inside one call (a plain `find`, copying the subject) is left
//! uncounted: it is bounded by the string's size, so by the memory limit,
//! and the hook sees the next call.

mod matcher;

use std::ops::Range;

use mlua::{Function, Lua, LuaString, MultiValue, Table, Value};

use crate::limits;
use matcher::{ESCAPE, Matcher, Piece};

/// Replaces the four pattern functions of the state's `string` table (which
/// string methods share). `memory` is the state's memory limit, which also
/// bounds the text `gsub` builds before it becomes a Lua string.
pub(crate) fn install(lua: &Lua, memory: u64) -> mlua::Result<()> {
    let string: Table = lua.globals().get("string")?;
    string.set(
        "find",
        lua.create_function(|lua, (s, p, init, plain): (LuaString, LuaString, Option<i64>, Value)| {
            let plain = !matches!(plain, Value::Nil | Value::Boolean(false));
            search(lua, &s, &p, init, Search::Find { plain })
        })?,
    )?;
    string.set(
        "match",
        lua.create_function(|lua, (s, p, init): (LuaString, LuaString, Option<i64>)| {
            search(lua, &s, &p, init, Search::Match)
        })?,
    )?;
    string.set("gmatch", lua.create_function(gmatch)?)?;
    string.set(
        "gsub",
        lua.create_function(move |lua, args: (LuaString, LuaString, Value, Option<i64>)| gsub(lua, args, memory))?,
    )?;
    Ok(())
}

/// Which of `find` and `match` is searching.
#[derive(Clone, Copy)]
enum Search {
    /// `string.find`: positions, then captures; a plain search when asked or
    /// when the pattern has no special characters.
    Find { plain: bool },
    /// `string.match`: captures, or the whole match.
    Match,
}

/// Where a search starts (0-based) for Lua's `init` argument, or `None` when
/// it starts past the end (`posrelatI` of lstrlib.c).
fn start_offset(init: Option<i64>, len: usize) -> Option<usize> {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let position = match init.unwrap_or(1) {
        n if n > 0 => n,
        0 => 1,
        n if n < -len_i => 1,
        n => len_i + n + 1,
    };
    usize::try_from(position - 1).ok().filter(|&start| start <= len)
}

/// The pattern without its `^` anchor, and whether it had one.
fn anchor(pat: &[u8]) -> (bool, usize) {
    if pat.first() == Some(&b'^') {
        (true, 1)
    } else {
        (false, 0)
    }
}

/// A budget charge for the matcher: the call's meter.
fn meter(lua: &Lua) -> impl FnMut(u64) -> mlua::Result<()> + '_ {
    move |steps| limits::charge(lua, steps)
}

fn search(lua: &Lua, s: &LuaString, p: &LuaString, init: Option<i64>, kind: Search) -> mlua::Result<MultiValue> {
    let (src, pat) = (s.as_bytes(), p.as_bytes());
    let Some(mut start) = start_offset(init, src.len()) else {
        return Ok(MultiValue::from_iter([Value::Nil]));
    };
    if let Search::Find { plain } = kind
        && (plain || matcher::is_plain(&pat))
    {
        let found = memchr::memmem::find(&src[start..], &pat).map(|at| start + at);
        return Ok(match found {
            Some(at) => MultiValue::from_iter([position(at + 1), position(at + pat.len())]),
            None => MultiValue::from_iter([Value::Nil]),
        });
    }
    let (anchored, p0) = anchor(&pat);
    let mut spend = meter(lua);
    let mut m = Matcher::new(&src, &pat, &mut spend);
    loop {
        if let Some(end) = m.try_at(start, p0)? {
            m.settle()?;
            let mut values = Vec::new();
            if let Search::Find { .. } = kind {
                values.extend([position(start + 1), position(end)]);
            }
            let whole = matches!(kind, Search::Match);
            values.extend(capture_values(lua, &m, &src, start..end, whole)?);
            return Ok(MultiValue::from_vec(values));
        }
        start += 1;
        if anchored || start > src.len() {
            m.settle()?;
            return Ok(MultiValue::from_iter([Value::Nil]));
        }
    }
}

fn gmatch(lua: &Lua, (s, p, init): (LuaString, LuaString, Option<i64>)) -> mlua::Result<Function> {
    let len = s.as_bytes().len();
    let mut next = start_offset(init, len).unwrap_or(len + 1);
    let mut last_match = None;
    lua.create_function_mut(move |lua, ()| {
        let (src, pat) = (s.as_bytes(), p.as_bytes());
        let mut spend = meter(lua);
        let mut m = Matcher::new(&src, &pat, &mut spend);
        while next <= src.len() {
            let start = next;
            next += 1;
            if let Some(end) = m.try_at(start, 0)?
                && Some(end) != last_match
            {
                next = end;
                last_match = Some(end);
                m.settle()?;
                return capture_values(lua, &m, &src, start..end, true).map(MultiValue::from_vec);
            }
        }
        m.settle()?;
        Ok(MultiValue::new())
    })
}

fn gsub(
    lua: &Lua,
    (s, p, repl, max): (LuaString, LuaString, Value, Option<i64>),
    memory: u64,
) -> mlua::Result<(Value, i64)> {
    let repl = Replacement::new(lua, repl)?;
    let (src, pat) = (s.as_bytes(), p.as_bytes());
    let max = max.unwrap_or(i64::try_from(src.len()).unwrap_or(i64::MAX).saturating_add(1));
    let (anchored, p0) = anchor(&pat);
    let mut spend = meter(lua);
    let mut m = Matcher::new(&src, &pat, &mut spend);
    let mut out = Vec::new();
    let (mut at, mut last_match, mut count, mut changed) = (0, None, 0i64, false);
    while count < max {
        match m.try_at(at, p0)? {
            Some(end) if Some(end) != last_match => {
                count += 1;
                changed |= repl.add(lua, &mut m, &src, at..end, &mut out)?;
                let room = memory.saturating_sub(lua.used_memory() as u64);
                if out.len() as u64 > room {
                    return Err(limits::out_of_memory(lua));
                }
                at = end;
                last_match = Some(end);
            }
            _ if at < src.len() => {
                out.push(src[at]);
                at += 1;
            }
            _ => break,
        }
        if anchored {
            break;
        }
    }
    m.settle()?;
    if !changed {
        return Ok((Value::String(s.clone()), count));
    }
    out.extend_from_slice(&src[at..]);
    Ok((Value::String(lua.create_string(&out)?), count))
}

/// `gsub`'s third argument.
enum Replacement {
    /// A string (or number): its text, with `%0`-`%9` and `%%` expanded;
    /// and how many escapes it has (each is a step of work per match).
    Text(LuaString, u64),
    /// Called with the captures; its result replaces the match.
    Function(Function),
    /// Indexed by the first capture; the value replaces the match.
    Table(Table),
}

impl Replacement {
    fn new(lua: &Lua, value: Value) -> mlua::Result<Self> {
        let type_name = value.type_name();
        match value {
            Value::Function(f) => Ok(Replacement::Function(f)),
            Value::Table(t) => Ok(Replacement::Table(t)),
            v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => match lua.coerce_string(v)? {
                Some(text) => {
                    let escapes = memchr::memchr_iter(ESCAPE, &text.as_bytes()).count() as u64;
                    Ok(Replacement::Text(text, escapes))
                }
                None => Err(bad_replacement(type_name)),
            },
            _ => Err(bad_replacement(type_name)),
        }
    }

    /// Appends the replacement of the match `matched` to `out`; whether it
    /// changed anything (a `nil` or `false` from a function or table keeps
    /// the match).
    fn add(
        &self,
        lua: &Lua,
        m: &mut Matcher,
        src: &[u8],
        matched: Range<usize>,
        out: &mut Vec<u8>,
    ) -> mlua::Result<bool> {
        let value = match self {
            Replacement::Text(text, escapes) => {
                m.work(escapes + 1)?;
                let text = text.as_bytes();
                expand(m, src, &text, matched, out)?;
                return Ok(true);
            }
            Replacement::Function(f) => f.call::<Value>(MultiValue::from_vec(capture_values(
                lua,
                m,
                src,
                matched.clone(),
                true,
            )?))?,
            Replacement::Table(t) => t.get::<Value>(piece_value(lua, src, m.capture(0, matched.clone())?)?)?,
        };
        match value {
            Value::Nil | Value::Boolean(false) => {
                out.extend_from_slice(&src[matched]);
                Ok(false)
            }
            v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
                if let Some(text) = lua.coerce_string(v)? {
                    out.extend_from_slice(&text.as_bytes());
                }
                Ok(true)
            }
            other => Err(mlua::Error::runtime(format!(
                "invalid replacement value (a {})",
                other.type_name()
            ))),
        }
    }
}

fn bad_replacement(type_name: &str) -> mlua::Error {
    mlua::Error::runtime(format!(
        "bad argument #3 to 'gsub' (string/function/table expected, got {type_name})"
    ))
}

/// Appends replacement text `repl` for the match `matched`, expanding `%0`
/// (the match), `%1`-`%9` (captures) and `%%`.
fn expand(m: &Matcher, src: &[u8], repl: &[u8], matched: Range<usize>, out: &mut Vec<u8>) -> mlua::Result<()> {
    let mut rest = repl;
    while let Some(at) = memchr::memchr(ESCAPE, rest) {
        out.extend_from_slice(&rest[..at]);
        match rest.get(at + 1).copied() {
            Some(ESCAPE) => out.push(ESCAPE),
            Some(b'0') => out.extend_from_slice(&src[matched.clone()]),
            Some(digit @ b'1'..=b'9') => match m.capture(usize::from(digit - b'1'), matched.clone())? {
                Piece::Text(range) => out.extend_from_slice(&src[range]),
                Piece::Position(at) => out.extend_from_slice(at.to_string().as_bytes()),
            },
            _ => return Err(mlua::Error::runtime("invalid use of '%' in replacement string")),
        }
        rest = &rest[at + 2..];
    }
    out.extend_from_slice(rest);
    Ok(())
}

/// A Lua integer for a 1-based position.
fn position(at: usize) -> Value {
    Value::Integer(i64::try_from(at).unwrap_or(i64::MAX))
}

/// The values a successful try yields (see [`Matcher::capture_count`]).
fn capture_values(lua: &Lua, m: &Matcher, src: &[u8], matched: Range<usize>, whole: bool) -> mlua::Result<Vec<Value>> {
    (0..m.capture_count(whole))
        .map(|index| piece_value(lua, src, m.capture(index, matched.clone())?))
        .collect()
}

/// A capture as the Lua value it yields.
fn piece_value(lua: &Lua, src: &[u8], piece: Piece) -> mlua::Result<Value> {
    match piece {
        Piece::Text(range) => Ok(Value::String(lua.create_string(&src[range])?)),
        Piece::Position(at) => Ok(position(at)),
    }
}

#[cfg(test)]
mod tests {
    use mlua::Lua;

    /// Runs every case through Lua's own C functions and through ours, and
    /// compares results (or, for errors, their messages; ours are mlua error
    /// objects, whose text adds a prefix and a traceback).
    const DIFFERENTIAL: &str = r##"
local subjects = {
  "", "a", "hello world", "  padded  ", "key=value; other=thing", "(a(b)c)d", "THE (quick) fox",
  "aaa", "abcabc", "x\0y\0z", "line1\nline2\n", "[x] %y% $z$", "10 apples, 20 pears", "\"q\" 'r'",
}
local patterns = {
  "", "a", "%a+", "(%a+)", "()a()", "^a", "a$", "^$", ".-", ".*", "a*", "a-", "a?b", "[%a_][%w_]*",
  "(%w+)=(%w+)", "%b()", "%f[%w]%w+", "(a)%1", "([\"'])(.-)%1", "%s*(.-)%s*$", "[^%s]+", "[]]",
  "[%]x]", "[a-c]+", "%d+", "%D+", "%%", "%$", "\0", "[\0y]+", "x%z?", "(a*(.)%w(%s*))", "$a",
  "^(%d+) (%a+)", "%", "[a", "(()", "a)", "%1", "(a)%2", "%b", "%fa", "[%", "(.)(.)(.)(.)",
}
local inits = { nil, 1, 2, -1, -3, 0, 100, -100 }
local repls = {
  "<%0>", "%1-%1", "%%", "x", 7, 1.5, "%2", "%", "%x",
  function(...) return select("#", ...) > 1 and table.concat({...}, "|") or nil end,
  function(a) return a == "a" and false or "F" end,
  function() return {} end,
  { a = "A", hello = 1, ["1"] = "one" },
}
local function pack(ok, ...)
  local t = { n = select("#", ...) + 1, ok }
  for i = 1, select("#", ...) do t[i + 1] = select(i, ...) end
  return t
end
local function show(t)
  local parts = {}
  for i = 1, t.n do
    local v = t[i]
    -- Errors from Rust functions are mlua error objects: compare their message.
    if not t[1] and i == 2 then v = c_gsub(c_gsub(tostring(v), "^runtime error: ", ""), "\nstack traceback:.*", "") end
    parts[#parts + 1] = type(v) .. ":" .. tostring(v)
  end
  return table.concat(parts, ",")
end
local function same(what, a, b)
  local x, y = show(a), show(b)
  if x ~= y then error(what .. "\n  lua:   " .. x .. "\n  ours:  " .. y, 0) end
end
local count = 0
for _, s in ipairs(subjects) do
  for _, p in ipairs(patterns) do
    for i = 1, #inits + 1 do
      local init = inits[i]
      local label = string.format("(%q, %q, %s)", s, p, tostring(init))
      same("find" .. label, pack(pcall(c_find, s, p, init)), pack(pcall(string.find, s, p, init)))
      same("find plain" .. label, pack(pcall(c_find, s, p, init, true)), pack(pcall(string.find, s, p, init, true)))
      same("match" .. label, pack(pcall(c_match, s, p, init)), pack(pcall(string.match, s, p, init)))
      local function all(gmatch)
        local ok, it = pcall(gmatch, s, p, init)
        if not ok then return pack(false, it) end
        local out = {}
        for _ = 1, 100 do
          local r = pack(pcall(it))
          out[#out + 1] = show(r)
          if not r[1] or r.n == 1 or r[2] == nil then break end
        end
        return pack(true, table.concat(out, ";"))
      end
      same("gmatch" .. label, all(c_gmatch), all(string.gmatch))
      count = count + 4
    end
    for _, r in ipairs(repls) do
      for _, max in ipairs({ false, 0, 1, 2 }) do
        local label = string.format("(%q, %q, %s, %s)", s, p, tostring(r), tostring(max))
        local m = max or nil
        same("gsub" .. label, pack(pcall(c_gsub, s, p, r, m)), pack(pcall(string.gsub, s, p, r, m)))
        count = count + 1
      end
    end
  end
end
return count
"##;

    #[test]
    fn the_counted_matcher_agrees_with_luas_own() {
        let lua = Lua::new();
        let globals = lua.globals();
        let string: mlua::Table = globals.get("string").unwrap();
        for name in ["find", "match", "gmatch", "gsub"] {
            globals
                .set(format!("c_{name}"), string.get::<mlua::Function>(name).unwrap())
                .unwrap();
        }
        super::install(&lua, u64::MAX).unwrap();
        let count: i64 = lua.load(DIFFERENTIAL).eval().unwrap_or_else(|e| panic!("{e}"));
        assert!(count > 10_000, "{count} cases");
    }
}
