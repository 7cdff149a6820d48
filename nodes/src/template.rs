//! `template`: renders a Go template against the input.

use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup, Value};
use pocket_template::Template;
use serde_json::json;

use crate::builtin::Builtin;

pub(crate) struct TemplateNode;

impl Builtin for TemplateNode {
    const NAME: &'static str = "template";
    const DESCRIPTION: &'static str =
        "Renders `template` (or the template in `file`) against the input; output as text, JSON or YAML";
    const RAW_KEYS: &'static [&'static str] = &["template"];

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "template": {"type": "string"},
                "file": {"type": "string", "description": "A file beneath the workflow file's directory, relative to it"},
                "output_format": {"enum": ["string", "json", "yaml"], "default": "string"}
            },
            "oneOf": [{"required": ["template"]}, {"required": ["file"]}],
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let (source, key) = match (setup.config_value("template"), setup.config_value("file")) {
            (Some(text), _) => (text.as_str().unwrap_or_default().to_string(), "/template"),
            (None, Some(file)) => {
                let text = setup
                    .read_file(file.as_str().unwrap_or_default())
                    .map_err(|e| ConfigError::at("/file", e.to_string()))?;
                (text, "/file")
            }
            (None, None) => return Err(ConfigError::new("set `template` or `file`")),
        };
        let template = Template::parse(&source).map_err(|e| ConfigError::at(key, format!("invalid template: {e}")))?;
        let format = match setup.config_value("output_format").and_then(Value::as_str) {
            Some("json") => Format::Json,
            Some("yaml") => Format::Yaml,
            _ => Format::Text,
        };
        Ok(Arc::new(TemplateRun { template, format }))
    }
}

enum Format {
    Text,
    Json,
    Yaml,
}

struct TemplateRun {
    template: Template,
    format: Format,
}

impl Node for TemplateRun {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::Ready(self.render(&call.input).map(NodeOutput::new))
    }
}

impl TemplateRun {
    fn render(&self, input: &Value) -> Result<Value, NodeError> {
        let text = self
            .template
            .render(input)
            .map_err(|e| NodeError::failed(format!("template: {e}")))?;
        match self.format {
            Format::Text => Ok(Value::from(text)),
            Format::Json => {
                Value::from_json(&text).map_err(|e| NodeError::failed(format!("rendered text is not valid JSON: {e}")))
            }
            Format::Yaml => pocket_core::parse::parse_yaml_value(&text)
                .map_err(|e| NodeError::failed(format!("rendered text is not valid YAML: {e}"))),
        }
    }
}
