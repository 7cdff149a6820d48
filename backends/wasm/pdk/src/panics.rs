//! Panics in a plugin, reported to the host before the module traps.

/// Makes a panic in the plugin tell the host its message and where it
/// happened (`panicked at src/lib.rs:12:5: index out of bounds...`) before
/// the module traps: without this, the host sees only "unreachable".
/// Installed once, on the first `pocket_describe` or `pocket_exec`.
pub fn report_panics() {
    #[cfg(target_arch = "wasm32")]
    {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            std::panic::set_hook(Box::new(|info| crate::host::report_panic(&panic_message(info))));
        });
    }
}

/// `message at file:line:column`.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)");
    match info.location() {
        Some(at) => format!("{message} at {}:{}:{}", at.file(), at.line(), at.column()),
        None => message.to_string(),
    }
}
