-- text-tools: small string helpers as Pocket node types (table form).
return {
  name = "text-tools",
  version = "1.0.0",
  description = "Word counts, slugs and truncation for text fields",
  author = "Pocket examples",
  nodes = {
    ["word-count"] = {
      description = "Counts the words in input[config.field]; adds `words` and `characters`",
      config_schema = {
        type = "object",
        properties = { field = { type = "string", default = "text" } },
      },
      examples = {
        { input = { text = "one two  three" }, output = { text = "one two  three", words = 3, characters = 14 } },
        { input = { body = "héllo" }, config = { field = "body" }, output = { text = "héllo", words = 1, characters = 5 } },
      },
      exec = function(input, config)
        local text = input[config.field] or ""
        local words = 0
        for _ in string.gmatch(text, "%S+") do words = words + 1 end
        return { text = text, words = words, characters = utf8.len(text) or #text }
      end,
    },
    ["slugify"] = {
      description = "Turns input[config.field] into a URL slug under `slug`; action `empty` when nothing is left",
      config_schema = {
        type = "object",
        properties = { field = { type = "string", default = "title" } },
      },
      examples = {
        { input = { title = "Hello, World!" }, output = { title = "Hello, World!", slug = "hello-world" } },
        { name = "nothing left", input = { title = "!!!" }, output = { title = "!!!", slug = "" }, action = "empty" },
      },
      exec = function(input, config)
        local slug = string.lower(input[config.field] or "")
        slug = slug:gsub("[^%w%s-]", ""):gsub("[%s_]+", "-"):gsub("^-+", ""):gsub("-+$", "")
        local out = {}
        for k, v in pairs(input) do out[k] = v end
        out.slug = slug
        if slug == "" then return out, "empty" end
        return out
      end,
    },
    ["truncate"] = {
      description = "Shortens input[config.field] to config.length characters, adding config.ellipsis",
      config_schema = {
        type = "object",
        properties = {
          field = { type = "string", default = "text" },
          length = { type = "integer", minimum = 1, default = 80 },
          ellipsis = { type = "string", default = "…" },
        },
      },
      exec = function(input, config)
        local text = input[config.field] or ""
        local out = {}
        for k, v in pairs(input) do out[k] = v end
        if (utf8.len(text) or #text) > config.length then
          out[config.field] = text:sub(1, utf8.offset(text, config.length + 1) - 1) .. config.ellipsis
          out.truncated = true
        else
          out.truncated = false
        end
        return out
      end,
    },
  },
}
