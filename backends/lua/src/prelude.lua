-- The sandbox's Lua side, run once per state after the host API is installed.
-- It receives `recheck` (re-raises tripped limits) and `charge` (counts work done inside one C
-- call against the instruction limit) and returns `run_body`. Whatever it keeps in locals is out
-- of the scripts' reach.
local recheck, charge = ...

local raw_pcall, raw_xpcall, raw_load, raw_collectgarbage = pcall, xpcall, load, collectgarbage
local raw_setmetatable, rawget, type, select, error = setmetatable, rawget, type, select, error
local co_resume, co_close = coroutine.resume, coroutine.close
local next = next
local string_find, string_sub, string_gsub = string.find, string.sub, string.gsub
local table_insert = table.insert

-- Only what the contract lists.
os = { time = os.time, clock = os.clock, date = os.date }
string.dump = nil
-- The string metatable is shared by every string: hide it.
getmetatable("").__metatable = false
dofile, loadfile, require, package, debug, io = nil, nil, nil, nil, nil, nil

-- A caught error passes through `recheck`: tripped limits and out-of-memory
-- errors are raised again, so `pcall` cannot swallow them.
local function pass(ok, ...)
  if not ok then recheck((...)) end
  return ok, ...
end
pcall = function(f, ...) return pass(raw_pcall(f, ...)) end
xpcall = function(f, handler, ...) return pass(raw_xpcall(f, handler, ...)) end
coroutine.resume = function(co, ...) return pass(co_resume(co, ...)) end
coroutine.close = function(co) return pass(co_close(co)) end

-- C functions whose loops the instruction hook never sees: their iterations are charged up
-- front, so `string.rep("", 1e15)` or `table.move(t, 1, 1e15, 2)` trip the instruction limit at
-- once instead of running past every limit. (The pattern functions are Pocket's own matcher,
-- which charges as it goes.) (A `string.rep` with a non-empty result allocates
-- all of it before looping, so the memory limit already bounds it.)
local raw_rep, raw_move, raw_sort = string.rep, table.move, table.sort
local tointeger, tostring, log, floor = math.tointeger, tostring, math.log, math.floor
string.rep = function(s, n, sep)
  local count = tointeger(n)
  if count and count > 0 and #tostring(s) + #tostring(sep or "") == 0 then charge(count) end
  return raw_rep(s, n, sep)
end
table.move = function(a1, f, e, t, a2)
  local first, last = tointeger(f), tointeger(e)
  if first and last and last >= first then charge(last - first + 1) end
  return raw_move(a1, f, e, t, a2)
end
-- Sorting without a comparison function compares inside C: n log n steps.
table.sort = function(t, comp)
  local n = tointeger(#t)
  if n and n > 1 then charge(n * (floor(log(n, 2)) + 1)) end
  return raw_sort(t, comp)
end

-- Text chunks only: binary chunks can crash the VM.
load = function(chunk, name, mode, ...)
  if select("#", ...) > 0 then return raw_load(chunk, name, "t", ...) end
  return raw_load(chunk, name, "t")
end

-- `collectgarbage("count")` only.
collectgarbage = function(option)
  if option ~= "count" then error('collectgarbage: only "count" is available', 2) end
  return raw_collectgarbage("count")
end

-- Finalizers run with hooks disabled, beyond the limits' reach: refuse them.
setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("setmetatable: __gc metamethods are not available", 2)
  end
  return raw_setmetatable(t, mt)
end

-- The Go engine's helper globals.
function str_split(s, sep)
  local parts = {}
  if sep == nil or sep == "" then
    for ch in string.gmatch(s, utf8.charpattern) do table_insert(parts, ch) end
    return json.array(parts)
  end
  local start = 1
  while true do
    local i, j = string_find(s, sep, start, true)
    if not i then break end
    table_insert(parts, string_sub(s, start, i - 1))
    start = j + 1
  end
  table_insert(parts, string_sub(s, start))
  return json.array(parts)
end

function str_trim(s)
  return (string_gsub(s, "^%s*(.-)%s*$", "%1"))
end

function str_contains(s, sub)
  return string_find(s, sub, 1, true) ~= nil
end

function str_replace(s, old, new, n)
  if n ~= nil and n < 0 then n = nil end
  if old == "" then return s end
  local out, start, count = {}, 1, 0
  while n == nil or count < n do
    local i, j = string_find(s, old, start, true)
    if not i then break end
    table_insert(out, string_sub(s, start, i - 1))
    table_insert(out, new)
    start, count = j + 1, count + 1
  end
  table_insert(out, string_sub(s, start))
  return table.concat(out)
end

function type_of(v)
  if v == json.null then return "null" end
  return type(v)
end

function json_encode(v) return json.encode(v) end
function json_decode(s) return json.decode(s) end

-- Calls a body-form chunk with fresh globals: its environment is emptied,
-- then given `input`, `config` and `_G`.
local function run_body(env, chunk, input, config)
  for key in next, env do env[key] = nil end
  env.input, env.config, env._G = input, config, env
  return chunk()
end

return run_body
