//! An Extism plugin written against Extism's own Rust PDK, with nothing of
//! Pocket's: the same module runs in any Extism host and, unchanged, in
//! Pocket (see `extism-text.extism.toml` beside the built module for how
//! its exports become node types).

use extism_pdk::*;
use serde::{Deserialize, Serialize};

const VOWELS: &[char] = &['a', 'A', 'e', 'E', 'i', 'I', 'o', 'O', 'u', 'U'];

/// What `count_vowels` answers (Extism's classic example).
#[derive(Serialize, ToBytes)]
#[encoding(Json)]
struct Count {
    count: usize,
    total: usize,
    vowels: String,
}

/// Counts the vowels of its input text, and how many it has counted so far
/// in this instance (an Extism var).
#[plugin_fn]
pub fn count_vowels(input: String) -> FnResult<Count> {
    let count = input.chars().filter(|c| VOWELS.contains(c)).count();
    let before = var::get::<String>("total")?.and_then(|t| t.parse::<usize>().ok()).unwrap_or(0);
    let total = before + count;
    var::set("total", total.to_string())?;
    debug!("counted {count} vowels, {total} so far");
    Ok(Count {
        count,
        total,
        vowels: config::get("vowels")?.unwrap_or_else(|| "aeiou".into()),
    })
}

/// Returns its input bytes unchanged.
#[plugin_fn]
pub fn echo(input: Vec<u8>) -> FnResult<Vec<u8>> {
    Ok(input)
}

/// Greets `name` with the configured `greeting` (plain text output).
#[plugin_fn]
pub fn greet(Json(person): Json<Person>) -> FnResult<String> {
    if person.name.is_empty() {
        return Err(WithReturnCode::new(Error::msg("name is empty"), 2));
    }
    let greeting = config::get("greeting")?.unwrap_or_else(|| "Hello".into());
    info!("greeting {}", person.name);
    Ok(format!("{greeting}, {}!", person.name))
}

/// `greet`'s input.
#[derive(Deserialize, FromBytes)]
#[encoding(Json)]
struct Person {
    name: String,
}

/// Fetches `url` with Extism's HTTP call and returns its status and body.
#[plugin_fn]
pub fn fetch(Json(request): Json<Fetch>) -> FnResult<Json<Fetched>> {
    let response = http::request::<()>(&HttpRequest::new(&request.url), None)?;
    Ok(Json(Fetched {
        status: response.status_code(),
        body: String::from_utf8_lossy(&response.body()).into_owned(),
    }))
}

/// `fetch`'s input.
#[derive(Deserialize)]
struct Fetch {
    url: String,
}

/// `fetch`'s output.
#[derive(Serialize)]
struct Fetched {
    status: u16,
    body: String,
}
