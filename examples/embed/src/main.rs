//! Pocket embedded in another program: open the deployment of the nearest
//! pocket.toml (its Lua, WASM and native plugins), validate a workflow
//! file, run it on a JSON input and print the output.
//!
//! `pocket-embed WORKFLOW INPUT_JSON`

#![forbid(unsafe_code)]

use std::process::ExitCode;

use pocket_runtime::{Deployment, Value};

async fn run(workflow: &str, input: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let deployment = Deployment::open(None)?;
    let workflow = deployment.validate_file(workflow.as_ref())?;
    let outcome = deployment
        .run(&workflow, Value::from_json(input)?, Default::default())
        .await?;
    Ok(outcome.output)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [workflow, input] = args.as_slice() else {
        eprintln!("usage: pocket-embed WORKFLOW INPUT_JSON");
        return ExitCode::from(2);
    };
    match run(workflow, input).await {
        Ok(output) => {
            println!("{output:#}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
