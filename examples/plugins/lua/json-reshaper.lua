-- json-reshaper: picks, renames and flattens fields of JSON objects (table form).
local function get_path(value, path)
  for part in string.gmatch(path, "[^%.]+") do
    if type(value) ~= "table" then return nil end
    value = value[tonumber(part) or part]
  end
  return value
end

local function flatten(value, prefix, out)
  if type(value) == "table" and next(value) ~= nil then
    for k, v in pairs(value) do
      flatten(v, prefix == "" and tostring(k) or (prefix .. "." .. tostring(k)), out)
    end
  else
    out[prefix] = value
  end
  return out
end

return {
  name = "json-reshaper",
  version = "1.0.0",
  description = "Reshapes JSON objects: pick and rename fields by path, flatten nesting",
  author = "Pocket examples",
  nodes = {
    ["reshape"] = {
      description = "Builds an object from config.fields ({ new_name = \"dotted.path\" }); missing paths use config.default",
      config_schema = {
        type = "object",
        properties = {
          fields = { type = "object", additionalProperties = { type = "string" } },
        },
        required = { "fields" },
      },
      exec = function(input, config)
        local out = {}
        for name, path in pairs(config.fields) do
          local value = get_path(input, path)
          if value == nil then value = config.default end
          out[name] = value
        end
        return out
      end,
    },
    ["flatten"] = {
      description = "Flattens nested objects and arrays into dotted keys (`user.address.city`)",
      exec = function(input)
        return flatten(input, "", {})
      end,
    },
  },
}
