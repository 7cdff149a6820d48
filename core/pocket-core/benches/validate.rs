//! Reading and validating a large workflow (9,000 nodes, each with a small
//! config) written in each format:
//! `cargo bench -p pocket-core --features testing --bench validate`.
//! Target: every format under 150 ms.

use std::sync::Arc;

use pocket_core::testing::{StaticPlugin, constant_type};
use pocket_core::{Format, PocketConfig, Registry, parse_str, validate};

const NODES: usize = 9_000;

fn main() {
    divan::main();
}

/// The workflow as a JSON value: a chain of `NODES` nodes with configs.
fn workflow() -> serde_json::Value {
    let nodes: Vec<_> = (0..NODES)
        .map(|i| {
            serde_json::json!({
                "name": format!("n{i}"),
                "type": "steps/step",
                "config": { "greeting": "hello {{ .name }}", "times": i % 7, "tags": ["a", "b"] },
            })
        })
        .collect();
    let connections: Vec<_> = (1..NODES)
        .map(|i| serde_json::json!({ "from": format!("n{}", i - 1), "to": format!("n{i}") }))
        .collect();
    serde_json::json!({
        "name": "big",
        "start": "n0",
        "max_steps": NODES,
        "nodes": nodes,
        "connections": connections,
    })
}

/// A registry with the one node type the workflows use, `steps/step`.
fn steps() -> Registry {
    let registry = Registry::new();
    registry
        .register(Arc::new(StaticPlugin::new(
            "steps",
            vec![constant_type("step", "done")],
        )))
        .expect("registers");
    registry
}

/// The format a benchmark argument names.
fn format_named(name: &str) -> Format {
    match name {
        "json" => Format::Json,
        "toml" => Format::Toml,
        _ => Format::Yaml,
    }
}

/// The same workflow in `format`, written as people write it (YAML in
/// block style).
fn text(format: Format) -> String {
    let workflow = workflow();
    match format {
        Format::Json => serde_json::to_string_pretty(&workflow).expect("serializes"),
        Format::Toml => toml::to_string(&workflow).expect("serializes"),
        Format::Yaml => {
            let mut yaml = format!("name: big\nstart: n0\nmax_steps: {NODES}\nnodes:\n");
            for i in 0..NODES {
                yaml.push_str(&format!(
                    "  - name: n{i}\n    type: steps/step\n    config:\n      greeting: \"hello {{{{ .name }}}}\"\n      times: {}\n      tags: [a, b]\n",
                    i % 7
                ));
            }
            yaml.push_str("connections:\n");
            for i in 1..NODES {
                yaml.push_str(&format!("  - from: n{}\n    to: n{i}\n", i - 1));
            }
            yaml
        }
    }
}

#[divan::bench(args = ["yaml", "json", "toml"], sample_count = 10, sample_size = 1)]
fn parse_and_validate(bencher: divan::Bencher, format: &str) {
    let format = format_named(format);
    let registry = steps();
    let config = PocketConfig::default();
    let text = text(format);
    bencher.bench_local(|| {
        let file = parse_str(&text, format).expect("parses");
        validate(&file, &registry.catalog(), &config).expect("validates")
    });
}

/// Parsing alone, without validation.
#[divan::bench(args = ["yaml", "json", "toml"], sample_count = 10, sample_size = 1)]
fn parse_only(bencher: divan::Bencher, format: &str) {
    let format = format_named(format);
    let text = text(format);
    bencher.bench_local(|| parse_str(&text, format).expect("parses"));
}

/// The YAML parser alone, skipping every value: the floor of `parse_only`'s
/// YAML figure.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn yaml_parser_alone(bencher: divan::Bencher) {
    let text = text(Format::Yaml);
    bencher.bench_local(|| serde_saphyr::from_str::<serde::de::IgnoredAny>(&text).expect("parses"));
}

/// The chain `pocket_core::testing::chain` writes (flow-style nodes, no
/// configs), 9,000 nodes long.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn yaml_chain_without_configs(bencher: divan::Bencher) {
    let registry = steps();
    let config = PocketConfig::default();
    let text = pocket_core::testing::chain("steps/step", NODES);
    bencher.bench_local(|| {
        let file = parse_str(&text, Format::Yaml).expect("parses");
        validate(&file, &registry.catalog(), &config).expect("validates")
    });
}
