-- {{name}}: a Pocket Lua plugin.
-- `pocket plugin test {{name}}.lua` runs the examples below;
-- `pocket plugin load {{name}}.lua` installs it.
return {
  name = "{{name}}",
  version = "0.1.0",
  description = "Greets someone by name",
  permissions = { "log" },        -- the capabilities its host calls need
  nodes = {
    greet = {
      description = "Answers {greeting = \"<salutation>, <input.name>!\"}",
      config_schema = {
        type = "object",
        properties = {
          salutation = { type = "string", default = "Hello", description = "The word to greet with" },
        },
      },
      examples = {
        { input = { name = "Ada" }, output = { greeting = "Hello, Ada!" } },
        { input = { name = "Ada" }, config = { salutation = "Hi" }, output = { greeting = "Hi, Ada!" } },
        { name = "no name", input = {}, error = "input.name must be a string" },
      },
      exec = function(input, config)
        if type(input.name) ~= "string" then
          error("input.name must be a string")
        end
        return { greeting = config.salutation .. ", " .. input.name .. "!" }
      end,
    },
  },
}
