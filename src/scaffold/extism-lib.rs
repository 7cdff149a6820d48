//! {{name}}: an Extism plugin written with Extism's own Rust PDK. Pocket
//! loads it unchanged; `{{name}}.extism.toml` beside the built module says
//! how its exports become node types.

use extism_pdk::*;
use serde::{Deserialize, Serialize};

/// `greet`'s input.
#[derive(Deserialize)]
struct Person {
    name: String,
}

/// `greet`'s output.
#[derive(Serialize)]
struct Greeting {
    greeting: String,
}

/// greet: {"greeting": "<salutation>, <name>!"}; the salutation is the
/// `salutation` config value (Extism's config map), "Hello" by default.
#[plugin_fn]
pub fn greet(Json(person): Json<Person>) -> FnResult<Json<Greeting>> {
    let salutation = config::get("salutation")?.unwrap_or_else(|| "Hello".into());
    Ok(Json(Greeting {
        greeting: format!("{salutation}, {}!", person.name),
    }))
}
