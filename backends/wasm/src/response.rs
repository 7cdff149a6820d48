//! Reading a guest's response: `{"output": ..., "action": "name"}` or
//! `{"error": ...}`, with its size checked before it is parsed.

use std::fmt;

use pocket_core::{Limit, NodeError, NodeOutput, Value};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::limits::Culprit;

/// Reads a response. Its parsed form may take at most `max_bytes` (the
/// plugin's memory limit) and nest at most [`pocket_value::MAX_DEPTH`]
/// deep: a 4 MB response must not become a gigabyte of host memory.
pub(crate) fn response(bytes: &[u8], culprit: Culprit<'_>, max_bytes: u64) -> Result<NodeOutput, NodeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        NodeError::Failed(format!(
            "{culprit} returned a response that is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    pocket_value::check_footprint(text, max_bytes).map_err(|e| NodeError::LimitExceeded {
        limit: Limit::Memory,
        detail: format!("{culprit} returned a response that was refused: {e}"),
    })?;
    let fields = Fields::parse(text).map_err(|_| malformed(text, culprit))?;
    if let Some(error) = fields.error.filter(|e| !e.is_null()) {
        let message = error.as_str().map_or_else(|| error.to_json(), str::to_string);
        return Err(NodeError::Failed(message));
    }
    let action = match fields.action {
        None | Some(Value::Null) => None,
        Some(Value::String(action)) => Some(action.as_ref().into()),
        Some(other) => {
            return Err(NodeError::Failed(format!(
                "{culprit} returned an action that is a {}, not a string",
                other.type_name()
            )));
        }
    };
    Ok(NodeOutput {
        output: fields.output.unwrap_or(Value::Null),
        action,
    })
}

/// What is wrong with a response that is not an object: invalid JSON, or
/// JSON of another type.
fn malformed(text: &str, culprit: Culprit<'_>) -> NodeError {
    match Value::from_json(text) {
        Err(e) => NodeError::Failed(format!("{culprit} returned invalid JSON: {e}")),
        Ok(value) => NodeError::Failed(format!(
            "{culprit} returned a {} instead of an object with `output` or `error`",
            value.type_name()
        )),
    }
}

/// The members of a response object the host reads, parsed straight from
/// the text (the object itself is never built); the last of a repeated
/// member counts, others are skipped.
#[derive(Default)]
struct Fields {
    output: Option<Value>,
    action: Option<Value>,
    error: Option<Value>,
}

impl Fields {
    fn parse(text: &str) -> Result<Fields, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        let fields = (&mut de).deserialize_map(FieldsVisitor)?;
        de.end()?;
        Ok(fields)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with `output` or `error`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Member>()? {
            let slot = match key {
                Member::Output => &mut fields.output,
                Member::Action => &mut fields.action,
                Member::Error => &mut fields.error,
                Member::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(fields)
    }
}

/// A response member's name.
enum Member {
    Output,
    Action,
    Error,
    Other,
}

impl<'de> de::Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Member, D::Error> {
        deserializer.deserialize_identifier(MemberVisitor)
    }
}

struct MemberVisitor;

impl Visitor<'_> for MemberVisitor {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
        Ok(match name {
            "output" => Member::Output,
            "action" => Member::Action,
            "error" => Member::Error,
            _ => Member::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<NodeOutput, NodeError> {
        read_within(text, 16 << 20)
    }

    fn read_within(text: &str, max_bytes: u64) -> Result<NodeOutput, NodeError> {
        let culprit = Culprit {
            plugin: "p",
            node_type: "t",
            node: "n",
        };
        response(text.as_bytes(), culprit, max_bytes)
    }

    fn failure(text: &str) -> String {
        read(text).expect_err("a failure").to_string()
    }

    #[test]
    fn outputs_and_actions_are_read_and_other_members_skipped() {
        let out = read(r#"{"x":[1,{"y":2}],"output":{"a":[1,2]},"action":"next"}"#).unwrap();
        assert_eq!(out.output.to_json(), r#"{"a":[1,2]}"#);
        assert_eq!(out.action.as_deref(), Some("next"));
        let out = read(r#"{"output":1,"output":2,"action":null}"#).unwrap();
        assert_eq!(out.output.to_json(), "2", "the last repeated member counts");
        assert_eq!(out.action, None);
        assert_eq!(read("{}").unwrap().output, Value::Null);
    }

    #[test]
    fn errors_and_malformed_responses_say_what_is_wrong() {
        assert_eq!(failure(r#"{"output":1,"error":"no luck"}"#), "no luck");
        assert_eq!(failure(r#"{"error":{"code":7}}"#), r#"{"code":7}"#);
        assert!(read(r#"{"output":1,"error":null}"#).is_ok());
        assert!(failure(r#"{"output":1,"action":3}"#).contains("an action that is a number"));
        assert!(failure("[1,2]").contains("instead of an object with `output` or `error`"));
        assert!(failure(r#"{"output":"#).contains("returned invalid JSON"));
        assert!(failure(r#"{"output":1} x"#).contains("returned invalid JSON"));
    }

    /// A budget with room for `depth` levels (each costs a stack frame).
    fn room_for(depth: usize) -> u64 {
        depth as u64 * (pocket_value::STACK_PER_LEVEL + pocket_value::CONTAINER_SIZE) + (1 << 20)
    }

    #[test]
    fn deep_outputs_parse_without_a_recursion_limit() {
        let depth = 10_000;
        let text = format!(r#"{{"output":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
        let read = read_within(&text, room_for(depth));
        assert!(read.is_ok(), "{:?}", read.err());
    }

    #[test]
    fn deep_members_the_host_does_not_read_are_skipped_without_recursion() {
        let depth = 90_000;
        let text = format!(r#"{{"junk":{}{},"output":7}}"#, "[".repeat(depth), "]".repeat(depth));
        assert_eq!(read_within(&text, room_for(depth)).unwrap().output, Value::from(7));
    }

    #[test]
    fn depth_is_charged_as_the_stack_it_takes() {
        let depth = 10_000;
        let text = format!(r#"{{"output":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
        // 20 KB of text, refused under a limit its depth's stack would pass.
        let stack = depth as u64 * pocket_value::STACK_PER_LEVEL;
        assert!(matches!(
            read_within(&text, stack),
            Err(NodeError::LimitExceeded {
                limit: Limit::Memory,
                ..
            })
        ));
    }

    #[test]
    fn a_response_too_big_once_parsed_is_refused_before_parsing() {
        let text = format!(r#"{{"output":[{}0]}}"#, "0,".repeat(10_000));
        match read_within(&text, 64 * 1024) {
            Err(NodeError::LimitExceeded { limit, detail }) => {
                assert_eq!(limit, Limit::Memory);
                assert!(detail.contains("was refused"), "{detail}");
            }
            other => panic!("not refused: {other:?}"),
        }
    }
}
